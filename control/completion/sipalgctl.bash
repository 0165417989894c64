# bash completion for sipalgctl. The candidates come from sipalgctl itself (its hidden __complete
# command reads the command table), so they follow the program they complete.
_sipalgctl()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local candidates
    candidates=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
    if [[ $candidates == __files__ ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
    fi
    compopt -o nospace 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
    # A word that takes a value (src=) stays open; any other gets its space.
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} != *= ]]; then
        COMPREPLY[0]+=' '
    fi
}
complete -F _sipalgctl sipalgctl
