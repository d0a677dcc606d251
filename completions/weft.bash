# bash completion for weft: options, the task names of the nearest recipe,
# NAME= variables of its [vars], and the options of weft exec and weft report.

# _weft_options [exec|report]: the long and short options weft --help lists.
_weft_options() {
	weft ${1:+"$1"} --help 2>/dev/null | grep -E '^ +-' | grep -oE -- '(^|[ ,])-(-[a-z][a-z-]*=?|[A-Za-z])' | tr -d ' ,'
}

# _weft_recipe_args WORDS...: the recipe options among the words typed so
# far (-f FILE, -C DIR, and --file=FILE, which bash may split at the =),
# for listing the tasks of the recipe they name.
_weft_recipe_args() {
	local i j
	for ((i = 2; i <= $#; i++)); do
		j=$((i + 1))
		case ${!i} in
		-f | --file | -C | --directory)
			[ "${!j-}" = = ] && j=$((j + 1))
			[ "$j" -le $# ] && printf '%s\n' "${!i}" "${!j}"
			;;
		--file=* | --directory=*) printf '%s\n' "${!i}" ;;
		esac
	done
}

_weft() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	if [ "${COMP_WORDS[1]-}" = exec ] && [ "$COMP_CWORD" -gt 1 ]; then
		case $cur in
		-*) mapfile -t COMPREPLY < <(compgen -W "$(_weft_options exec)" -- "$cur") ;;
		*) mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
		esac
		return 0
	fi
	if [ "${COMP_WORDS[1]-}" = report ] && [ "$COMP_CWORD" -gt 1 ]; then
		case $cur in
		-*) mapfile -t COMPREPLY < <(compgen -W "$(_weft_options report)" -- "$cur") ;;
		*) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		esac
		return 0
	fi
	case $prev in
	-f | --file | --joblog | --junit | --events | --trace | --report)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	-C | --directory)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0
		;;
	--output) mapfile -t COMPREPLY < <(compgen -W "line group raw" -- "$cur"); return 0 ;;
	--color | --colour) mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur"); return 0 ;;
	-j | --jobs | --grace | --heartbeat | --cluster | --requeue) return 0 ;;
	esac
	case $cur in
	/*) return 0 ;; # a /REGEX/ is left alone
	-*)
		mapfile -t COMPREPLY < <(compgen -W "$(_weft_options)" -- "$cur")
		# --opt= takes a value: no space after it.
		[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
		return 0
		;;
	esac
	local -a args
	mapfile -t args < <(_weft_recipe_args "${COMP_WORDS[@]:0:COMP_CWORD}")
	local words
	words="$(weft "${args[@]}" --list 2>/dev/null | awk '{ print $1 }')"
	[ "$COMP_CWORD" -eq 1 ] && words+=$'\nexec\nreport'
	words+=$'\n'"$(weft "${args[@]}" --list-vars 2>/dev/null | sed 's/=.*/=/')"
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
	return 0
}
complete -F _weft weft
