# bash completion for bpfprobe: commands, flags, and the fact keys of --require, which the CLI lists
# itself (`bpfprobe --list-keys PREFIX`, from the catalog and the running kernel's BTF).

# The word being completed, whole: bash splits "map:ri" at ':' (COMP_WORDBREAKS), the keys need it joined.
_bpfprobe_current_word() {
  local line=${COMP_LINE:0:COMP_POINT}
  printf '%s' "${line##*[ =]}"
}

_bpfprobe() {
  local cur prev cmd word i
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    case $word in check | diff | cache | snapshot) cmd=$word; break ;; esac
  done

  local global="--report --json --json=bpftool --macros --markdown --calibrate --btf --require --verbose --no-color --threads
    --kfuncs --no-cache --refresh --cache-dir --help --version"
  case $cmd in
    check)
      case $prev in
        --format) COMPREPLY=($(compgen -W "text json github junit sarif" -- "$cur")); return ;;
        --target) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --prog | --threads) return ;;
      esac
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--json --format --no-load --target --prog --threads --help" -- "$cur"))
      else
        COMPREPLY=($(compgen -f -X '!*.o' -- "$cur") $(compgen -d -- "$cur"))
      fi
      return ;;
    diff) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    cache) COMPREPLY=($(compgen -W "show clear" -- "$cur")); return ;;
    snapshot)
      case $prev in
        -o | --output | --show) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "-o --output --show --help" -- "$cur"))
      return ;;
  esac

  # --require KEY[,KEY...]: complete the last key of the list; bash split it at ':' and maybe '='.
  local whole=$(_bpfprobe_current_word)
  local before=${COMP_LINE:0:COMP_POINT}
  before=${before%"$whole"}
  before=${before%[ =]}
  if [[ ${before##* } == --require ]]; then
    local done_keys=${whole%"${whole##*,}"} key=${whole##*,}
    local prefix=${key%"${key##*:}"}  # up to the last ':'
    local candidates
    candidates=$("${COMP_WORDS[0]}" --list-keys "${prefix%:}" 2>/dev/null)
    COMPREPLY=($(compgen -P "$done_keys" -W "$candidates" -- "$key"))
    # Bash replaces only what follows the last ':' (a word break; ',' is none): drop the text before it.
    local shown=${whole##*:}
    local cut=$(( ${#whole} - ${#shown} ))
    for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]:cut}; done
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} != *: ]] || compopt -o nospace 2>/dev/null
    return
  fi
  case $prev in
    --btf | --cache-dir) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --kfuncs) COMPREPLY=($(compgen -W "default full" -- "$cur")); return ;;
    --threads) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$global" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "check diff cache snapshot" -- "$cur"))
  fi
}
complete -F _bpfprobe bpfprobe
