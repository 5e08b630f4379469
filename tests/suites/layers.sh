#!/usr/bin/env bash
# layers.sh - no file of lib/ includes a header of a higher layer (docs/ARCHITECTURE.md): reads
# every #include "..." under lib/, finds the folder that holds the header, and fails (listing
# each wrong-way include) when that folder's layer is above the includer's, when a folder
# outside lib/X includes lib/X/private/, or when lib/ includes a header of app/ or tools/.
# The build refuses the same includes (each library sees only its own and lower layers'
# include directories); this check names them in one line each. Usage: layers.sh [SRCROOT]
set -u
cd "${1:-$(dirname "$0")/../..}" || exit 2

# rank of each folder of lib/, lowest first; a folder may include its own and lower ranks
declare -A rank=([common]=0 [packet]=1 [afpacket]=2 [config]=3 [flow]=4 [dataplane]=5 [ports]=6 [control]=7 [cli]=8)
# folders outside the ranks, with what each may include besides itself
declare -A may=([client]="common ctl_client" [ctl_client]="")

declare -A home # header basename -> folder under lib/ ("X" or "X/private"), or app/tools path
while read -r h; do
	dir=${h%/*}
	case $h in
	lib/*) dir=${dir#lib/} ;;
	esac
	home[${h##*/}]+="$dir "
done < <(find lib app tools -name '*.h' | sort)

allowed() { # allowed FROM TO: may lib/FROM include a header that lives in TO?
	local from=$1 to=$2
	[ "$to" = "$from" ] || [ "$to" = "$from/private" ] && return 0
	case $to in */private) return 1 ;; esac
	if [ -n "${may[$from]+x}" ]; then
		[[ " ${may[$from]} " == *" $to "* ]]
		return
	fi
	[ -n "${rank[$to]+x}" ] || return 1 # app/, tools/, or a folder with no rank
	[ -n "${rank[$from]+x}" ] && [ "${rank[$to]}" -le "${rank[$from]}" ]
}

bad=0
n=0
while IFS=: read -r file line text; do
	h=$(sed -n 's/.*#include "\([^"]*\)".*/\1/p' <<<"$text")
	[ -n "$h" ] || continue
	n=$((n + 1))
	from=${file#lib/}
	from=${from%%/*}
	[ -n "${rank[$from]+x}" ] || [ -n "${may[$from]+x}" ] || {
		echo "not ok - $file: folder lib/$from has no layer in layers.sh"
		bad=1
		continue
	}
	homes=${home[${h##*/}]:-}
	[ -n "$homes" ] || continue # not a header of this tree (a system or generated one)
	to=""
	for d in $homes; do # the includer's own folder wins, as the compiler finds it first
		[ "$d" = "$from" ] || [ "$d" = "$from/private" ] && to=$d
	done
	[ -n "$to" ] || to=${homes%% *}
	if ! allowed "$from" "$to"; then
		echo "not ok - $file:$line includes \"$h\" of $to, a higher layer than lib/$from"
		bad=1
	fi
done < <(grep -rn '#include "' lib --include='*.c' --include='*.h')

[ "$n" -gt 0 ] || { echo "not ok - no #include found under lib/"; exit 1; }
[ "$bad" = 0 ] && echo "ok - $n includes in lib/, none of a higher layer"
exit "$bad"
