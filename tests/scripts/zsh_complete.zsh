# The matches zsh's completion system offers for a command line, cursor at its end:
#   zsh -f zsh_complete.zsh COMPLETION_DIR LINE
# An interactive zsh in a pseudo-terminal (zpty) loads the completions of COMPLETION_DIR with
# compinit; LINE is typed and a key bound to complete-word pressed. compadd is wrapped to print each
# match it is given that fits the line (compadd -O), one per line after a marker.
zmodload zsh/zpty || exit 3
dir=$1 line=$2
zpty z zsh -f -i
zpty -w z "PS1='' RPS1=''; unsetopt zle_bracketed_paste 2>/dev/null; fpath=(${(q)dir} \$fpath)"
zpty -w z "autoload -Uz compinit && compinit -u -D"
# The markers are written split ('<''m>') so that the shell's echo of these lines never matches them.
zpty -w z 'compadd() { local -a m; builtin compadd -O m "$@"; (( $#m )) && print -rl -- "<""m>"${^m}; builtin compadd "$@" }'
zpty -w z 'complete_and_mark() { zle complete-word; print -r "<""done>"; zle send-break }'
zpty -w z 'zle -N complete_and_mark; bindkey "^T" complete_and_mark; print -r "<""ready>"'
# Reads what the shell prints until $1 appears, or fails (exit 4, what it read on stderr) after 45 s.
typeset -F SECONDS
read_until() {
  local deadline=$((SECONDS + 45))
  out=
  until [[ $out == *"$1"* ]]; do
    if zpty -r -t z chunk; then out+=$chunk; continue; fi
    if (( SECONDS > deadline )); then
      print -r -- "zsh_complete: no '$1' after 45 s; the shell printed: $out" >&2
      zpty -d z
      exit 4
    fi
    sleep 0.05
  done
}
read_until '<ready>'
zpty -w -n z "$line"$'\x14'
read_until '<done>'
zpty -d z
for l in ${(f)out}; do
  l=${l%$'\r'}
  [[ $l == *'<m>'* ]] && print -r -- ${l##*<m>}
done
exit 0
