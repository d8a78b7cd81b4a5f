//! The bash, zsh and fish completion scripts.
//!
//! Written by hand rather than with clap_complete: the scripts hold no command knowledge at all.
//! They only find where virsh's global options end (generated below from [`GLOBAL_OPTS`]), then
//! hand the rest of the line up to the cursor to `virtsh complete -- LINE`, the hidden command
//! that libvirt's own bash completion calls on virsh. So command names, options, enum values,
//! files and live object names all come from the declarations in `defs/` through
//! `complete.rs`, the same code the REPL's Tab uses, and a script never goes stale when a
//! command changes. The `-c`/`--connect` URI and `-r` already on the line are passed through;
//! `LIBVIRT_DEFAULT_URI` and `VIRSH_DEFAULT_CONNECT_URI` reach virtsh through the environment.
//! The same scripts complete virt-admin's lines: `virtsh admin ...` and a `virt-admin` symlink
//! (its options from [`ADMIN_GLOBAL_OPTS`], the rest from `virtsh admin complete`).
//! clap_complete's scripts (static or its dynamic `COMPLETE=` protocol) would need a clap
//! parser for virsh's grammar (getopt-style globals, then a command string), which virtsh
//! deliberately does not have (see `cli.rs`).

use super::{Values, ADMIN_GLOBAL_OPTS, GLOBAL_OPTS};

/// The global options taking a value, as a shell pattern `--connect|--debug|...`.
fn long_with_arg(sep: &str) -> String {
    GLOBAL_OPTS
        .iter()
        .filter(|o| o.arg.is_some())
        .filter_map(|o| o.long.map(|l| format!("--{l}")))
        .collect::<Vec<_>>()
        .join(sep)
}

/// The short letters of the global options taking a value: `cdekKlo`.
fn short_with_arg() -> String {
    GLOBAL_OPTS
        .iter()
        .filter(|o| o.arg.is_some())
        .filter_map(|o| o.short)
        .collect()
}

/// Every spelling of every global option: `-c --connect -d ...`.
fn spellings(o: &super::GlobalOpt) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(s) = o.short {
        v.push(format!("-{s}"));
    }
    if let Some(l) = o.long {
        v.push(format!("--{l}"));
    }
    v
}

fn all_spellings(opts: &[super::GlobalOpt]) -> String {
    opts.iter()
        .flat_map(spellings)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The option names (as `optval` holds them: the short letter or the long name) whose values
/// complete, with what completes them.
fn value_options() -> Vec<(Vec<String>, Values)> {
    GLOBAL_OPTS
        .iter()
        .filter(|o| o.values != Values::Nothing)
        .map(|o| {
            let mut names: Vec<String> = o.short.map(|s| s.to_string()).into_iter().collect();
            names.extend(o.long.map(str::to_string));
            (names, o.values)
        })
        .collect()
}

fn fill(template: &str, cases: &str) -> String {
    template
        .replace("@LONGARG@", &long_with_arg("|"))
        .replace("@LONGARG_FISH@", &long_with_arg(" "))
        .replace("@SHORTARG@", &short_with_arg())
        .replace(
            "@SHORTARG_FISH@",
            &short_with_arg()
                .chars()
                .map(String::from)
                .collect::<Vec<_>>()
                .join(" "),
        )
        .replace("@GLOBALS@", &all_spellings(GLOBAL_OPTS))
        .replace("@ADMIN_GLOBALS@", &all_spellings(ADMIN_GLOBAL_OPTS))
        .replace("@VALUECASES@", cases)
}

pub fn bash() -> String {
    let mut cases = String::new();
    for (names, values) in value_options() {
        let action = match values {
            Values::File => "mapfile -t cands < <(compgen -f -- \"$cur\")".to_string(),
            Values::List(l) => format!(
                "mapfile -t cands < <(compgen -W \"{}\" -- \"$cur\")",
                l.join(" ")
            ),
            Values::Nothing => continue,
        };
        cases.push_str(&format!("            {}) {action} ;;\n", names.join("|")));
    }
    fill(BASH, cases.trim_end_matches('\n'))
}

pub fn zsh() -> String {
    let mut cases = String::new();
    for (names, values) in value_options() {
        let action = match values {
            Values::File => "_files; return".to_string(),
            Values::List(l) => format!("cands=({})", l.join(" ")),
            Values::Nothing => continue,
        };
        cases.push_str(&format!("            ({}) {action} ;;\n", names.join("|")));
    }
    fill(ZSH, cases.trim_end_matches('\n'))
}

pub fn fish() -> String {
    let mut cases = String::new();
    for (names, values) in value_options() {
        let action = match values {
            Values::File => "__fish_complete_path \"$cur\"".to_string(),
            Values::List(l) => format!("printf '%s\\n' {}", l.join(" ")),
            Values::Nothing => continue,
        };
        cases.push_str(&format!(
            "            case {}\n                {action}\n",
            names.join(" ")
        ));
    }
    // fish shows a description beside each global option.
    let described = |opts: &[super::GlobalOpt]| {
        let mut globals = String::new();
        for o in opts {
            for s in spellings(o) {
                globals.push_str(&format!(
                    "            printf '%s\\t%s\\n' {s} '{}'\n",
                    o.help.replace('\'', "\\'")
                ));
            }
        }
        globals.trim_end().to_string()
    };
    fill(FISH, cases.trim_end_matches('\n'))
        .replace("@GLOBALS_FISH@", &described(GLOBAL_OPTS))
        .replace("@ADMIN_GLOBALS_FISH@", &described(ADMIN_GLOBAL_OPTS))
}

const BASH: &str = r#"# bash completion for virtsh                                 -*- shell-script -*-
#
# Generated by `virtsh --generate=bash`: do not edit, regenerate.
#
# Install: copy to /usr/share/bash-completion/completions/virtsh (or, for one user,
# ~/.local/share/bash-completion/completions/virtsh), or `source completions/virtsh.bash`.
#
# Everything after virsh's global options is completed by virtsh itself: the line up to the
# cursor goes to `virtsh complete -- LINE`, with the -c/--connect URI and -r already on the
# line (LIBVIRT_DEFAULT_URI is honoured by virtsh).
#
# virt-admin's lines too: `virtsh admin ...`, and a virt-admin symlink (for bash-completion's
# on-demand loading, install a copy of this file named virt-admin as well).

_virtsh()
{
    local IFS=$' \t\n'
    local prog=${1:-${COMP_WORDS[0]:-virtsh}}
    local mode=virsh admin=
    [[ ${prog##*/} == virt-admin ]] && mode=admin
    if ! type -P "$prog" >/dev/null 2>&1; then
        [[ $mode == admin ]] && admin=admin
        prog=virtsh
    fi
    # The line up to the cursor, split on blanks only (bash's COMP_WORDS also splits on ':'
    # and '=', which URIs contain).
    local line
    if [[ -n ${COMP_LINE-} ]]; then
        line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
    else
        line="${COMP_WORDS[*]:0:COMP_CWORD+1}"
    fi
    local -a words
    read -ra words <<< "$line"
    # A trailing blank starts a new, empty word.
    if [[ ${#words[@]} -eq 0 || $line == *[[:space:]] ]]; then
        words+=("")
    fi
    local n=$(( ${#words[@]} - 1 ))
    local cur=${words[n]}
    local i=1 uri= ro= w c j rest optval=
    # `virtsh admin ...` is virt-admin: its own options follow the word.
    if [[ $mode == virsh && ${prog##*/} != virsh && ${words[1]-} == admin ]] && (( n > 1 )); then
        mode=admin admin=admin i=2
    fi
    # Skip the global options (getopt-style, as virsh and virt-admin parse them).
    while (( i < n )); do
        w=${words[i]}
        case $w in
            --) (( i++ )); break ;;
            --connect=*) uri=${w#*=} ;;
            @LONGARG@)
                (( i++ ))
                [[ $w == --connect ]] && uri=${words[i]}
                (( i == n )) && optval=${w#--} ;;
            --readonly) ro=1 ;;
            --*) ;;
            -?*)
                for (( j = 1; j < ${#w}; j++ )); do
                    c=${w:j:1}
                    case $c in
                        r) ro=1 ;;
                        [@SHORTARG@])
                            rest=${w:j+1}
                            if [[ -z $rest ]]; then
                                (( i++ ))
                                rest=${words[i]}
                                (( i == n )) && optval=$c
                            fi
                            [[ $c == c ]] && uri=$rest
                            break ;;
                    esac
                done ;;
            *) break ;;
        esac
        (( i++ ))
    done
    local -a cands=()
    if [[ -n $optval ]]; then
        case $optval in
@VALUECASES@
        esac
    elif (( i == n )) && [[ $cur == -* && $mode == admin ]]; then
        mapfile -t cands < <(compgen -W "@ADMIN_GLOBALS@" -- "$cur")
    elif (( i == n )) && [[ $cur == -* ]]; then
        mapfile -t cands < <(compgen -W "@GLOBALS@" -- "$cur")
    elif (( i <= n )); then
        [[ $mode == admin ]] && ro=
        mapfile -t cands < <("$prog" $admin ${uri:+-c "$uri"} ${ro:+-r} -q complete -- "${words[*]:i}" 2>/dev/null)
        if [[ $mode == virsh && $i == 1 && $n == 1 && ${prog##*/} != virsh && admin == "$cur"* ]]; then
            cands+=(admin)
        fi
    fi
    # bash replaces only the part of the word after its last ':' or '=': drop what precedes it.
    local bcur=${COMP_WORDS[COMP_CWORD]-$cur} strip=
    [[ $cur == *"$bcur" ]] && strip=${cur%"$bcur"}
    COMPREPLY=()
    for w in "${cands[@]}"; do
        [[ -z $w ]] && continue
        [[ $w == */ ]] && compopt -o nospace 2>/dev/null
        COMPREPLY+=("${w#"$strip"}")
    done
}
complete -F _virtsh virtsh virt-admin
"#;

const ZSH: &str = r#"#compdef virtsh virt-admin
#
# zsh completion for virtsh. Generated by `virtsh --generate=zsh`: do not edit, regenerate.
#
# Install: put this file, named _virtsh, in a directory of $fpath before compinit runs, e.g.
#   mkdir -p ~/.zfunc && cp completions/_virtsh ~/.zfunc/   and in ~/.zshrc, before compinit:
#   fpath=(~/.zfunc $fpath)
#
# Everything after virsh's global options is completed by virtsh itself: the line up to the
# cursor goes to `virtsh complete -- LINE`, with the -c/--connect URI and -r already on the
# line (LIBVIRT_DEFAULT_URI is honoured by virtsh). virt-admin's lines too: `virtsh admin ...`
# and a virt-admin symlink.

_virtsh() {
    emulate -L zsh
    local prog=${(Q)words[1]} mode=virsh admin=
    [[ ${prog:t} == virt-admin ]] && mode=admin
    if ! { (( $+commands[$prog] )) || [[ -x $prog ]] }; then
        [[ $mode == admin ]] && admin=admin
        prog=virtsh
    fi
    local -a w
    w=("${(@Q)words[1,CURRENT-1]}" "$PREFIX")
    local n=$#w i=2 uri= ro= x c j rest optval=
    # `virtsh admin ...` is virt-admin: its own options follow the word.
    if [[ $mode == virsh && ${prog:t} != virsh && $w[2] == admin ]] && (( n > 2 )); then
        mode=admin admin=admin i=3
    fi
    # Skip the global options (getopt-style, as virsh and virt-admin parse them).
    while (( i < n )); do
        x=$w[i]
        case $x in
            (--) (( i++ )); break ;;
            (--connect=*) uri=${x#*=} ;;
            (@LONGARG@)
                (( i++ ))
                [[ $x == --connect ]] && uri=$w[i]
                (( i == n )) && optval=${x#--} ;;
            (--readonly) ro=1 ;;
            (--*) ;;
            (-?*)
                for (( j = 2; j <= $#x; j++ )); do
                    c=$x[j]
                    case $c in
                        (r) ro=1 ;;
                        ([@SHORTARG@])
                            rest=$x[j+1,-1]
                            if [[ -z $rest ]]; then
                                (( i++ ))
                                rest=$w[i]
                                (( i == n )) && optval=$c
                            fi
                            [[ $c == c ]] && uri=$rest
                            break ;;
                    esac
                done ;;
            (*) break ;;
        esac
        (( i++ ))
    done
    local -a cands
    if [[ -n $optval ]]; then
        case $optval in
@VALUECASES@
        esac
    elif (( i == n )) && [[ $PREFIX == -* && $mode == admin ]]; then
        cands=(@ADMIN_GLOBALS@)
    elif (( i == n )) && [[ $PREFIX == -* ]]; then
        cands=(@GLOBALS@)
    elif (( i <= n )); then
        [[ $mode == admin ]] && ro=
        cands=("${(@f)$("$prog" ${admin:+admin} ${uri:+-c} ${uri:+$uri} ${ro:+-r} -q complete -- "${(j: :)w[i,n]}" 2>/dev/null)}")
        if [[ $mode == virsh && $i == 2 && $n == 2 && ${prog:t} != virsh && admin == ${PREFIX}* ]]; then
            cands+=(admin)
        fi
    fi
    cands=(${cands:#})
    local -a dirs others
    dirs=(${(M)cands:#*/})
    others=(${cands:#*/})
    (( $#dirs )) && compadd -S '' -- $dirs
    (( $#others )) && compadd -- $others
    return 0
}

if [[ $funcstack[1] == _virtsh ]]; then
    _virtsh "$@"
elif (( $+functions[compdef] )); then
    compdef _virtsh virtsh virt-admin
fi
"#;

const FISH: &str = r#"# fish completion for virtsh. Generated by `virtsh --generate=fish`: do not edit, regenerate.
#
# Install: copy to ~/.config/fish/completions/virtsh.fish (or, for every user,
# /usr/share/fish/vendor_completions.d/virtsh.fish), or `source completions/virtsh.fish`.
#
# Everything after virsh's global options is completed by virtsh itself: the line up to the
# cursor goes to `virtsh complete -- LINE`, with the -c/--connect URI and -r already on the
# line (LIBVIRT_DEFAULT_URI is honoured by virtsh).
#
# virt-admin's lines too: `virtsh admin ...`, and a virt-admin symlink (for fish's on-demand
# loading, install a copy of this file named virt-admin.fish as well).

function __virtsh_complete
    set -l w (commandline -opc)
    set -l cur (commandline -ct)
    set -l prog $w[1]
    set -l base (string replace -r '.*/' '' -- $prog)
    set -l mode virsh
    set -l admin
    test "$base" = virt-admin; and set mode admin
    if not command -q -- $prog
        test $mode = admin; and set admin admin
        set prog virtsh
    end
    set -a w "$cur"
    set -l n (count $w)
    set -l i 2
    # `virtsh admin ...` is virt-admin: its own options follow the word.
    if test $mode = virsh; and test "$base" != virsh; and test $n -gt 2; and test "$w[2]" = admin
        set mode admin
        set admin admin
        set i 3
    end
    set -l conn
    set -l ro
    set -l optval
    # Skip the global options (getopt-style, as virsh parses them).
    while test $i -lt $n
        set -l x $w[$i]
        switch $x
            case --
                set i (math $i + 1)
                break
            case '--connect=*'
                set conn -c (string replace -- --connect= '' $x)
            case @LONGARG_FISH@
                set i (math $i + 1)
                test $x = --connect; and set conn -c $w[$i]
                test $i -eq $n; and set optval (string sub -s 3 -- $x)
            case --readonly
                set ro -r
            case '--*'
            case -
                break
            case '-*'
                for j in (seq 2 (string length -- $x))
                    set -l c (string sub -s $j -l 1 -- $x)
                    switch $c
                        case r
                            set ro -r
                        case @SHORTARG_FISH@
                            set -l rest (string sub -s (math $j + 1) -- $x)
                            if test -z "$rest"
                                set i (math $i + 1)
                                set rest $w[$i]
                                test $i -eq $n; and set optval $c
                            end
                            test $c = c; and set conn -c $rest
                            break
                    end
                end
            case '*'
                break
        end
        set i (math $i + 1)
    end
    if test -n "$optval"
        switch $optval
@VALUECASES@
        end
    else if test $i -eq $n; and string match -q -- '-*' "$cur"
        if test $mode = admin
@ADMIN_GLOBALS_FISH@
        else
@GLOBALS_FISH@
        end
    else if test $i -le $n
        test $mode = admin; and set ro
        $prog $admin $conn $ro -q complete -- (string join ' ' -- $w[$i..$n]) 2>/dev/null | string match -rv '^$'
        if test $mode = virsh; and test $i -eq 2; and test $n -eq 2; and test "$base" != virsh; and string match -q -- "$cur*" admin
            echo admin
        end
    end
end

complete -c virtsh -f -a '(__virtsh_complete)'
complete -c virt-admin -f -a '(__virtsh_complete)'
"#;
