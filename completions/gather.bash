# bash completion for gather(1)                            -*- shell-script -*-
#
# Install as /usr/share/bash-completion/completions/gather, or source it
# from ~/.bashrc.  Needs nothing from the bash-completion package.
#
# The option list follows the parser's table, options[] in src/cli.c;
# tests/outputs.bats checks that none is missing.

# Set COMPREPLY to the words of $1 (one a line) that start with $2,
# each with the prefix $3 put back in front.
_gather_words() {
	local word
	COMPREPLY=()
	while IFS= read -r word; do
		[[ -n "$word" ]] && COMPREPLY+=("$3$word")
	done < <(compgen -W "$1" -- "$2")
}

# Set COMPREPLY to the file names (-f) or directory names (-d) starting
# with $2, each with the prefix $3 (@ or --opt=) put back in front.
_gather_paths() {
	local path
	COMPREPLY=()
	if [[ -z "$3" ]]; then
		# Plain names: bash quotes them and marks directories itself.
		# (compopt only works while bash is completing.)
		compopt -o filenames 2>/dev/null || true
		while IFS= read -r path; do
			COMPREPLY+=("$path")
		done < <(compgen "$1" -- "$2")
		return 0
	fi
	while IFS= read -r path; do
		[[ -d "$path" && "$path" != */ ]] && path="$path/"
		COMPREPLY+=("$3$path")
	done < <(compgen "$1" -- "$2")
	# A lone directory is completed further, not closed by a space.
	if ((${#COMPREPLY[@]} == 1)) && [[ "${COMPREPLY[0]}" == */ ]]; then
		compopt -o nospace 2>/dev/null || true
	fi
}

_gather() {
	local cur prev opt val
	local long_opts="--body --cacert --compressed --concurrency
		--connect-timeout --data --deadline --fail --fail-fast --format
		--header --help --http1.1 --http2-prior-knowledge
		--include-headers --input --insecure --location --location-trusted --max-body
		--max-redirs --name --no-compressed --no-location --no-progress
		--output-dir --per-host --progress --proto --proxy --quiet --rate
		--request --resume --retries --retry-delay --retry-max-delay
		--shard --stats --timeout --unordered --user-agent --verbose
		--version --window"
	local short_opts="-A -c -d -H -h -I -i -k -L -o -q -t -u -V -v -X -x"
	local body_modes="auto text base64 json none"
	local formats="jsonl json"
	local methods="GET HEAD POST PUT PATCH DELETE OPTIONS"
	local protos="http https =http,https"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# With '=' in COMP_WORDBREAKS (bash's default), --opt=val comes as the
	# words --opt, =, val; readline then completes only what follows '='.
	if [[ "$cur" == = && "$prev" == --* ]]; then
		cur=""
	elif [[ "$prev" == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# --opt=value in one word: complete the value after the '='.
	if [[ "$cur" == --*=* ]]; then
		opt=${cur%%=*}
		val=${cur#*=}
		case "$opt" in
		--body) _gather_words "$body_modes" "$val" "$opt=" ;;
		--format) _gather_words "$formats" "$val" "$opt=" ;;
		--stats) _gather_words "json" "$val" "$opt=" ;;
		--request) _gather_words "$methods" "$val" "$opt=" ;;
		--proto) _gather_words "$protos" "$val" "$opt=" ;;
		--input | --cacert | --resume) _gather_paths -f "$val" "$opt=" ;;
		--output-dir) _gather_paths -d "$val" "$opt=" ;;
		--data)
			[[ "$val" == @* ]] && _gather_paths -f "${val#@}" "$opt=@"
			;;
		esac
		return 0
	fi

	# The value of the option before this word.
	case "$prev" in
	--body)
		_gather_words "$body_modes" "$cur" ""
		return 0
		;;
	--format)
		_gather_words "$formats" "$cur" ""
		return 0
		;;
	-X | --request)
		_gather_words "$methods" "$cur" ""
		return 0
		;;
	--proto)
		_gather_words "$protos" "$cur" ""
		return 0
		;;
	-i | --input | --cacert | --resume)
		_gather_paths -f "$cur" ""
		return 0
		;;
	-o | --output-dir)
		_gather_paths -d "$cur" ""
		return 0
		;;
	-d | --data)
		# Only @FILE names a file; other data is free text.
		[[ "$cur" == @* ]] && _gather_paths -f "${cur#@}" "@"
		return 0
		;;
	-A | --user-agent | -c | --concurrency | --connect-timeout | \
		--deadline | -H | --header | --max-body | --max-redirs | --name | \
		--per-host | -x | --proxy | --rate | --retries | --retry-delay | \
		--retry-max-delay | --shard | -t | --timeout | --window)
		# A value with nothing to offer.
		return 0
		;;
	esac

	case "$cur" in
	--*)
		_gather_words "$long_opts" "$cur" ""
		;;
	-*)
		_gather_words "$short_opts $long_opts" "$cur" ""
		;;
	*)
		# URL arguments: nothing sensible to offer.
		;;
	esac
	return 0
}

complete -F _gather gather
