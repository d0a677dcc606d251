# fish completion for weft: options, the task names of the nearest recipe,
# NAME= variables of its [vars], and the options of weft exec and weft report.

# The recipe options typed so far (-f FILE, -C DIR), for listing its tasks.
function __weft_recipe_args
    set -l words (commandline -opc)
    set -e words[1]
    while set -q words[1]
        switch $words[1]
            case -f --file -C --directory
                echo $words[1]
                set -q words[2]; and echo $words[2]
                set -e words[1]
            case '--file=*' '--directory=*'
                echo $words[1]
        end
        set -e words[1]
    end
end

function __weft_not_exec
    not __fish_seen_subcommand_from exec report
end

function __weft_tasks
    weft (__weft_recipe_args) --list 2>/dev/null | string replace -r '\s.*' ''
end

function __weft_vars
    weft (__weft_recipe_args) --list-vars 2>/dev/null | string replace -r '=.*' '='
end

# Options, from weft --help, weft exec --help and weft report --help.
function __weft_options
    weft $argv --help 2>/dev/null | string match -r -- '^ +-.*' | string match -r -a -- '(?:^|[ ,])(--[a-z][a-z-]*=?|-[A-Za-z])\b' | string match -r -- '^-.*'
end

complete -c weft -f
complete -c weft -n '__weft_not_exec; and string match -q -- "-*" (commandline -ct)' -a '(__weft_options)'
complete -c weft -n '__fish_seen_subcommand_from exec; and string match -q -- "-*" (commandline -ct)' -a '(__weft_options exec)'
complete -c weft -n '__fish_seen_subcommand_from report; and string match -q -- "-*" (commandline -ct)' -a '(__weft_options report)'
complete -c weft -n '__fish_seen_subcommand_from report; and not string match -q -- "-*" (commandline -ct)' -F
complete -c weft -n '__fish_use_subcommand' -a exec -d 'run a command for each input'
complete -c weft -n '__fish_use_subcommand' -a report -d 'write the HTML report of a finished run'
complete -c weft -n '__weft_not_exec; and not string match -q -- "-*" (commandline -ct)' -a '(__weft_tasks)' -d task
complete -c weft -n '__weft_not_exec; and not string match -q -- "-*" (commandline -ct)' -a '(__weft_vars)' -d variable
