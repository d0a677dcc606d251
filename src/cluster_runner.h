/* weft --runner: one runner of a cluster, which runs the jobs its master sends on fd 3 and sends their events back. */
#ifndef WEFT_CLUSTER_RUNNER_H
#define WEFT_CLUSTER_RUNNER_H

/* argv[0] is "--runner". Returns weft's exit status. */
int cluster_runner_main(int argc, char **argv);

#endif
