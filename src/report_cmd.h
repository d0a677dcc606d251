/* weft report: the HTML report of a finished run, built from its --events file or from a job log. */
#ifndef WEFT_REPORT_CMD_H
#define WEFT_REPORT_CMD_H

/* Runs `weft report` with argv[0] == "report"; words are weft's own, the
 * report's command line when the input (a job log) has none. Returns the
 * exit status: 0, 1 when the report cannot be written, 2 after a usage
 * error or an input that cannot be read. */
int report_main(int argc, char **argv, char **words);

#endif
