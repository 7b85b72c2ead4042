#!/usr/bin/env bash
# hfd.sh - download a Hugging Face repository from the hub or from a mirror,
# with resume, size and sha256 checks. Part of ExplainLab; see hfd/README.md.
#
# Written for ExplainLab; its options follow the popular hfd.sh so that
# commands from tutorials keep working.

set -euo pipefail

readonly HFD_VERSION="1.0"

usage() {
    cat <<'EOF'
Usage: hfd.sh REPO_ID [options]    (REPO_ID first: patterns run up to the next option)

Download every file of a Hugging Face repository (or a selection of them)
from https://huggingface.co or from the mirror named by HF_ENDPOINT.
Downloads resume after an interruption; every file is checked (size, and
sha256 for LFS files) before it gets its final name.

Options:
  --include PAT...     only files matching one of these globs (e.g. '*.json' 'onnx/*')
  --exclude PAT...     skip files matching one of these globs (applied after --include)
                       Both take one or more patterns up to the next option and may be
                       repeated. '*' also matches '/', as in huggingface-cli.
  --hf_username NAME   accepted for compatibility; not needed (the token is enough)
  --hf_token TOKEN     access token for gated/private repos (default: $HF_TOKEN)
  --tool aria2c|wget   download tool (default aria2c; falls back to wget if missing)
  -x THREADS           aria2c connections per file (default 4, at most 16)
  -j JOBS              aria2c files downloaded at the same time (default 5)
  --dataset            REPO_ID is a dataset
  --local-dir DIR      where to put the files (default: the repo name, after the '/')
  --revision REV       branch, tag or commit (default main)
  -h, --help           show this help

Environment:
  HF_ENDPOINT      hub or mirror address (default https://huggingface.co)
  HF_TOKEN         token used when --hf_token is not given
  HFD_TIMEOUT      network timeout in seconds (default 60)
  HFD_TRIES        attempts per request (default 5)
  HFD_RETRY_WAIT   seconds to wait between attempts (default 5)
  HFD_DEBUG=1      print the listing URL and the full tool command lines

Examples:
  HF_ENDPOINT=https://hf-mirror.com hfd.sh openai-community/gpt2 --include '*.json' '*.safetensors'
  HF_ENDPOINT=http://192.168.1.10:8090 hfd.sh Salesforce/wikitext --dataset --include 'wikitext-2-raw-v1/*'
  HF_TOKEN=hf_xxx hfd.sh meta-llama/Llama-3.2-1B --exclude 'original/*' --tool aria2c -x 8 -j 4
Partial files are NAME.incomplete; each gets its final name only once checked.
Exit status: 0 all files present and checked, 1 a failure, 2 bad usage.
Chinese help / 中文说明: hfd/README.zh.md
EOF
}

say() { printf 'hfd: %s\n' "$*" >&2; }
note() { printf 'hfd: note: %s\n' "$*" >&2; }
die() { printf 'hfd: error: %s\n' "$*" >&2; exit 1; }
usage_error() {
    printf 'hfd: error: %s\n' "$*" >&2
    printf 'hfd: run "hfd.sh --help" for usage\n' >&2
    exit 2
}
debug() { if [[ ${HFD_DEBUG:-0} == 1 ]]; then printf 'hfd: debug: %s\n' "$*" >&2; fi; }
have() { command -v "$1" >/dev/null 2>&1; }

# Hide user:password@ in URLs before printing them.
redact_url() {
    local url=$1
    if [[ $url =~ ^([a-zA-Z]+://)[^/@]*@(.*)$ ]]; then
        url="${BASH_REMATCH[1]}***@${BASH_REMATCH[2]}"
    fi
    printf '%s' "$url"
}

human_size() {
    awk -v b="$1" 'BEGIN {
        split("B KiB MiB GiB TiB", u, " "); i = 1
        while (b >= 1024 && i < 5) { b /= 1024; i++ }
        if (i == 1) printf "%d %s", b, u[i]; else printf "%.1f %s", b, u[i] }'
}

# header_value NAME HEADERS: the last value of header NAME (any case) in HEADERS.
header_value() {
    printf '%s\n' "$2" | awk -v name="$1" '
        { n = index($0, ":") }
        n > 0 && tolower(substr($0, 1, n - 1)) == name {
            value = substr($0, n + 1); sub(/^[ \t]+/, "", value); last = value }
        END { print last }'
}

positive_int() { [[ $1 =~ ^[0-9]+$ ]] && (( 10#$1 > 0 )); }

# ---------------------------------------------------------------- arguments
repo_id=""
includes=()
excludes=()
hf_token=""
tool="aria2c"
threads=4
jobs=5
repo_type="model"
local_dir=""
revision="main"

need_value() { [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
    if [[ $1 == --*=* ]]; then  # --opt=value is the same as --opt value
        set -- "${1%%=*}" "${1#*=}" "${@:2}"
    fi
    case $1 in
        -h|--help) usage; exit 0 ;;
        --include|--exclude)
            opt=$1; count=0; shift
            while [[ $# -gt 0 && $1 != -* ]]; do
                if [[ $opt == --include ]]; then includes+=("$1"); else excludes+=("$1"); fi
                count=$((count + 1)); shift
            done
            [[ $count -gt 0 ]] || usage_error "$opt needs at least one pattern"
            continue ;;
        --hf_username|--hf-username) need_value "$@"; shift ;;  # not needed, accepted
        --hf_token|--hf-token) need_value "$@"; hf_token=$2; shift ;;
        --tool) need_value "$@"; tool=$2; shift ;;
        -x) need_value "$@"; threads=$2; shift ;;
        -j) need_value "$@"; jobs=$2; shift ;;
        --dataset) repo_type="dataset" ;;
        --local-dir|--local_dir) need_value "$@"; local_dir=$2; shift ;;
        --revision) need_value "$@"; revision=$2; shift ;;
        --version) printf 'hfd.sh %s\n' "$HFD_VERSION"; exit 0 ;;
        -*) usage_error "unknown option: $1" ;;
        *)
            [[ -z $repo_id ]] || usage_error "more than one REPO_ID: '$repo_id' and '$1'"
            repo_id=$1 ;;
    esac
    shift
done

[[ -n $repo_id ]] || { usage >&2; exit 2; }
if ! [[ $repo_id =~ ^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$ ]] \
        || [[ $repo_id == *..* ]]; then
    usage_error "not a repo id: '$repo_id' (expected NAME or ORG/NAME)"
fi
[[ $tool == aria2c || $tool == wget ]] || usage_error "--tool must be aria2c or wget, not '$tool'"
positive_int "$threads" || usage_error "-x needs a positive number, not '$threads'"
positive_int "$jobs" || usage_error "-j needs a positive number, not '$jobs'"
threads=$((10#$threads)); jobs=$((10#$jobs))
if [[ $threads -gt 16 ]]; then note "-x $threads is more than aria2c allows; using 16"; threads=16; fi
[[ $revision =~ [[:cntrl:]] ]] && usage_error "--revision contains control characters"
[[ -n $local_dir ]] || local_dir=${repo_id##*/}

timeout=${HFD_TIMEOUT:-60}
tries=${HFD_TRIES:-5}
retry_wait=${HFD_RETRY_WAIT:-5}
positive_int "$timeout" || usage_error "HFD_TIMEOUT must be a positive number of seconds"
positive_int "$tries" || usage_error "HFD_TRIES must be a positive number"
[[ $retry_wait =~ ^[0-9]+$ ]] || usage_error "HFD_RETRY_WAIT must be a number of seconds"

endpoint=${HF_ENDPOINT:-https://huggingface.co}
while [[ $endpoint == */ ]]; do endpoint=${endpoint%/}; done
[[ $endpoint =~ ^https?://[^/]+ ]] \
    || usage_error "HF_ENDPOINT must look like https://host (got '$(redact_url "$endpoint")')"
shown_endpoint=$(redact_url "$endpoint")

# The token never goes on a command line: tools read it from private files.
token=${hf_token:-${HF_TOKEN:-}}
if [[ -n $token && ! $token =~ ^[A-Za-z0-9._~+/=-]+$ ]]; then
    usage_error "the token contains characters a token cannot have (it is not shown here)"
fi

# ------------------------------------------------------------------- tools
if have jq; then parser=jq
elif have python3; then parser=python3
else die "hfd needs jq or python3 to read the file listing; install one (apt install jq)"
fi
if have curl; then lister=curl
elif have wget; then lister=wget
else die "hfd needs curl or wget; install one (apt install wget)"
fi
if [[ $tool == aria2c ]] && ! have aria2c; then
    have wget || die "neither aria2c nor wget is installed; install one (apt install aria2)"
    note "aria2c not found, using wget instead (install aria2 for parallel downloads)"
    tool=wget
elif [[ $tool == wget ]] && ! have wget; then
    have aria2c || die "neither wget nor aria2c is installed; install one (apt install wget)"
    note "wget not found, using aria2c instead"
    tool=aria2c
fi
if have sha256sum; then sha256_cmd=(sha256sum)
elif have shasum; then sha256_cmd=(shasum -a 256)
else sha256_cmd=(); note "no sha256sum or shasum: LFS files are checked by size only"
fi
if have sha1sum; then sha1_cmd=(sha1sum)
elif have shasum; then sha1_cmd=(shasum -a 1)
else sha1_cmd=()
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hfd.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

curl_auth=()
wget_auth=()
if [[ -n $token ]]; then
    (
        umask 077
        printf 'header = "Authorization: Bearer %s"\n' "$token" >"$tmp/curlrc"
        # --config replaces wget's usual startup files, so keep their settings.
        if [[ -n ${WGETRC:-} ]]; then cat -- "$WGETRC" 2>/dev/null || true
        else cat /etc/wgetrc "${HOME:-/nonexistent}/.wgetrc" 2>/dev/null || true
        fi >"$tmp/wgetrc"
        printf '\nheader = Authorization: Bearer %s\n' "$token" >>"$tmp/wgetrc"
    )
    curl_auth=(--config "$tmp/curlrc")
    wget_auth=(--config="$tmp/wgetrc")
fi

# Percent-encode a string for one URL path segment (UTF-8 bytes, like urllib's quote).
uri_encode() {
    if [[ $parser == jq ]]; then
        jq -rn --arg s "$1" '$s | @uri'
    else
        python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
    fi
}

# ------------------------------------------------------------------ listing
if [[ $repo_type == dataset ]]; then
    api_kind=datasets; url_prefix="$endpoint/datasets/$repo_id"
else
    api_kind=models; url_prefix="$endpoint/$repo_id"
fi
enc_revision=$(uri_encode "$revision")
api_url="$endpoint/api/$api_kind/$repo_id/revision/$enc_revision?blobs=true"
shown_api_url=$(redact_url "$api_url")
debug "listing from $shown_api_url with $lister"

body="$tmp/listing.json"
headers="$tmp/listing.headers"
errors="$tmp/listing.err"
status=000
content_type=""
reach_error=""

if [[ $lister == curl ]]; then
    set +e
    out=$(curl --silent --show-error --location --proto '=http,https' \
        --user-agent "hfd.sh/$HFD_VERSION" \
        --retry "$((tries - 1))" --retry-delay "$retry_wait" \
        --connect-timeout "$timeout" --speed-limit 1 --speed-time "$timeout" \
        ${curl_auth[@]+"${curl_auth[@]}"} \
        --dump-header "$headers" --output "$body" \
        --write-out '%{http_code} %{content_type}' "$api_url" 2>"$errors")
    rc=$?
    set -e
    status=${out%% *}
    content_type=${out#* }
    if [[ $rc -ne 0 && ( -z $status || $status == 000 ) ]]; then
        reach_error=$(tail -n 1 "$errors" | sed -e 's/^curl: ([0-9]*) //')
        [[ -n $reach_error ]] || reach_error="curl exit code $rc"
    fi
else
    # One wget per attempt: with --tries, wget writes a retried answer over the
    # error page it kept, so the body would be a mix of both.
    attempt=0
    while :; do
        attempt=$((attempt + 1))
        set +e
        wget --no-verbose --server-response --content-on-error --max-redirect=5 \
            --user-agent="hfd.sh/$HFD_VERSION" --tries=1 --timeout="$timeout" \
            ${wget_auth[@]+"${wget_auth[@]}"} \
            --output-document="$body" "$api_url" 2>"$errors"
        rc=$?
        set -e
        grep -E '^  ' "$errors" | sed -e 's/^  //' >"$headers" || true
        status=$(sed -n -E 's#^HTTP/[0-9.]+ ([0-9]{3}).*#\1#p' "$headers" | tail -n 1)
        case $status in
            429|500|502|503|504) ;;
            *) break ;;
        esac
        [[ $attempt -lt $tries ]] || break
        sleep "$retry_wait"
    done
    content_type=$(header_value content-type "$(tr -d '\r' <"$headers")")
    if [[ -z $status ]]; then
        status=000
        reach_error=$(grep -v -E '^  ' "$errors" | tail -n 1 | sed -e 's/^failed: //')
        [[ -n $reach_error ]] || reach_error="wget exit code $rc"
    fi
fi

error_code=""
if [[ -f $headers ]]; then error_code=$(header_value x-error-code "$(tr -d '\r' <"$headers")"); fi
hint="check HF_ENDPOINT (now $shown_endpoint), e.g. HF_ENDPOINT=https://hf-mirror.com / 请检查 HF_ENDPOINT 镜像地址"

if [[ $status == 000 ]]; then
    die "cannot reach $shown_api_url ($reach_error); $hint"
fi
case $status in
    200) ;;
    401|403)
        if [[ $error_code == RepoNotFound ]]; then
            die "repository not found: $repo_id ($repo_type) at $shown_endpoint, or it is private and needs a token (HTTP $status); check the id${token:+ and the token}"
        elif [[ -n $token ]]; then
            die "the token was refused for $repo_id (HTTP $status${error_code:+, $error_code}); check that it is valid and that your account has access (accept the repo's terms on the hub)"
        else
            die "$repo_id needs a token (HTTP $status${error_code:+, $error_code}); pass --hf_token TOKEN or set HF_TOKEN, after accepting the repo's terms on the hub"
        fi ;;
    404)
        if [[ $error_code == RevisionNotFound ]]; then
            die "revision not found: '$revision' of $repo_id (HTTP 404)"
        elif [[ $error_code == RepoNotFound || $content_type == application/json* ]]; then
            other="--dataset"; [[ $repo_type == dataset ]] && other="no --dataset"
            die "repository not found: $repo_id ($repo_type) at $shown_endpoint (HTTP 404); check the id, or try $other"
        else
            die "$shown_api_url is not a hub API (HTTP 404${content_type:+, $content_type}); $hint"
        fi ;;
    429|5??)
        die "$shown_api_url answered HTTP $status after $tries tries; the mirror is busy or broken, try again later or $hint" ;;
    *)
        die "$shown_api_url answered HTTP $status; $hint" ;;
esac

# One line per file: size, sha256, git blob id, URL-encoded path, path ('-' = unknown).
# Tabs, newlines and backslashes in paths come out escaped, so such a path holds a
# backslash and is refused below.
files_tsv="$tmp/files.tsv"
if [[ $parser == jq ]]; then
    jq -r '
        if (type == "object") and (.siblings | type) == "array" then . else error("no siblings") end
        | .siblings[]
        | [ ((.size // .lfs.size) | if . == null then "-" else tostring end),
            (.lfs.sha256 // "-" | tostring | ascii_downcase),
            (.blobId // "-" | tostring),
            (.rfilename // "" | tostring | split("/") | map(@uri) | join("/")),
            (.rfilename // "" | tostring) ]
        | @tsv' "$body" >"$files_tsv" 2>/dev/null || parse_failed=1
else
    python3 - "$body" >"$files_tsv" 2>/dev/null <<'PY' || parse_failed=1
import json, sys, urllib.parse
with open(sys.argv[1], encoding="utf-8") as fh:
    info = json.load(fh)
siblings = info.get("siblings") if isinstance(info, dict) else None
if not isinstance(siblings, list):
    sys.exit(3)

def text(value, default="-"):
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)

def tsv(value):  # the escaping of jq's @tsv
    return (value.replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))

for entry in siblings:
    lfs = entry.get("lfs") or {}
    size = entry.get("size", lfs.get("size"))
    if size is None:
        size = lfs.get("size")
    name = text(entry.get("rfilename"), "")
    fields = [text(size), text(lfs.get("sha256")).lower(), text(entry.get("blobId")),
              urllib.parse.quote(name, safe="/"), name]
    print("\t".join(tsv(f) for f in fields))
PY
fi
if [[ ${parse_failed:-0} == 1 ]]; then
    die "$shown_api_url did not answer with a hub file listing${content_type:+ ($content_type)}; $hint"
fi

# --------------------------------------------------------- check and select
unsafe=0
paths=(); sizes=(); shas=(); blobs=(); encs=()
total_bytes=0
unknown_sizes=0
listed=0
while IFS=$'\t' read -r size sha blob enc path; do
    listed=$((listed + 1))
    # Refused: absolute, a '..' (or '.' or empty) component, a backslash, control characters.
    if [[ -z $path || $path == /* || /$path/ == */../* || /$path/ == */./* \
            || $path == *//* || $path == */ || $path == *\\* || $path =~ [[:cntrl:]] ]]; then
        printf "hfd: error: refusing unsafe path from the listing: '%s'\n" "$path" >&2
        unsafe=1; continue
    fi
    if ! [[ $size == - || $size =~ ^[0-9]+$ ]] || ! [[ $sha == - || $sha =~ ^[0-9a-f]{64}$ ]]; then
        printf "hfd: error: malformed listing entry for '%s' (size '%s', sha256 '%s')\n" \
            "$path" "$size" "$sha" >&2
        unsafe=1; continue
    fi
    [[ $blob =~ ^[0-9a-f]{40}$ ]] || blob=-
    if [[ ${#includes[@]} -gt 0 ]]; then
        keep=0
        for pat in "${includes[@]}"; do
            # shellcheck disable=SC2053  # the pattern is a glob on purpose
            if [[ $path == $pat ]]; then keep=1; break; fi
        done
        [[ $keep == 1 ]] || continue
    fi
    skip=0
    for pat in ${excludes[@]+"${excludes[@]}"}; do
        # shellcheck disable=SC2053
        if [[ $path == $pat ]]; then skip=1; break; fi
    done
    [[ $skip == 0 ]] || continue
    paths+=("$path"); sizes+=("$size"); shas+=("$sha"); blobs+=("$blob"); encs+=("$enc")
    if [[ $size == - ]]; then unknown_sizes=1; else total_bytes=$((total_bytes + size)); fi
done <"$files_tsv"

if [[ $unsafe == 1 ]]; then
    die "the listing from $shown_api_url names paths outside the download folder or is malformed; nothing was downloaded (is this mirror trustworthy?)"
fi
count=${#paths[@]}
if [[ $count -eq 0 ]]; then
    if [[ $listed -gt 0 ]]; then
        die "none of the $listed files of $repo_id matches the --include/--exclude patterns"
    fi
    say "$repo_id has no files at revision $revision; nothing to do"
    exit 0
fi

if [[ -e $local_dir && ! -d $local_dir ]]; then
    die "--local-dir $local_dir exists and is not a folder"
fi
mkdir -p -- "$local_dir"
shown_total=$(human_size "$total_bytes")
[[ $unknown_sizes == 0 ]] || shown_total="size unknown"
say "$repo_id ($repo_type, revision $revision) from $shown_endpoint: $count of $listed files, $shown_total -> $local_dir"

# ----------------------------------------------------------------- checking
file_size() { local n; n=$(wc -c <"$1"); printf '%s' $((n)); }

# verify FILE SIZE SHA256 BLOB: 0 good, 1 wrong size, 2 wrong checksum; the reason
# goes to $why.
why=""
verify() {
    local file=$1 size=$2 sha=$3 blob=$4 got
    got=$(file_size "$file")
    if [[ $size != - && $got != "$size" ]]; then
        why="expected $size bytes, got $got"; return 1
    fi
    if [[ $sha != - && ${#sha256_cmd[@]} -gt 0 ]]; then
        got=$("${sha256_cmd[@]}" <"$file" | cut -d ' ' -f 1)
        if [[ $got != "$sha" ]]; then why="sha256 is $got, expected $sha"; return 2; fi
    elif [[ $sha == - && $blob != - && ${#sha1_cmd[@]} -gt 0 ]]; then
        got=$({ printf 'blob %d\0' "$(file_size "$file")"; cat -- "$file"; } \
            | "${sha1_cmd[@]}" | cut -d ' ' -f 1)
        if [[ $got != "$blob" ]]; then why="git blob id is $got, expected $blob"; return 2; fi
    fi
    return 0
}

failed=()

# prepare I: 0 if file I must be downloaded, 1 if it is already complete.
# Partial data lives in DEST.incomplete and gets the final name once checked.
prepare() {
    local i=$1 dest="$local_dir/${paths[$1]}" size=${sizes[$1]} have_bytes
    local part="$dest.incomplete"
    mkdir -p -- "$(dirname -- "$dest")"
    if [[ -f $dest ]]; then
        if verify "$dest" "$size" "${shas[$i]}" "${blobs[$i]}"; then
            say "complete, skipped: ${paths[$i]}"
            return 1
        fi
        have_bytes=$(file_size "$dest")
        if [[ $size != - && $have_bytes -lt $size && ! -e $part ]]; then
            mv -f -- "$dest" "$part"  # e.g. left by another downloader: resume it
        else
            say "replacing: ${paths[$i]} ($why)"
            rm -f -- "$dest"
        fi
    fi
    if [[ $tool == wget && -f $part.aria2 ]]; then
        # aria2c fills a file in pieces, with holes; wget can only append to it.
        say "restarting ${paths[$i]}: aria2c's partial file cannot be resumed with wget"
        rm -f -- "$part" "$part.aria2"
    fi
    if [[ -f $part && $size != - ]]; then
        have_bytes=$(file_size "$part")
        if [[ $have_bytes -gt $size ]]; then rm -f -- "$part" "$part.aria2"; fi
    fi
    return 0
}

# finish I: check DEST.incomplete and give it its final name, or delete it.
finish() {
    local i=$1 dest="$local_dir/${paths[$1]}" part result=0
    part="$dest.incomplete"
    if [[ ! -f $part ]]; then
        say "download failed: ${paths[$i]}"
        failed+=("${paths[$i]}"); return
    fi
    if [[ -f $part.aria2 ]]; then  # aria2c has not finished it
        say "incomplete, kept for resume: ${paths[$i]}"
        failed+=("${paths[$i]}"); return
    fi
    verify "$part" "${sizes[$i]}" "${shas[$i]}" "${blobs[$i]}" || result=$?
    case $result in
        0) mv -f -- "$part" "$dest" ;;
        1) if [[ ${sizes[$i]} != - && $(file_size "$part") -lt ${sizes[$i]} ]]; then
               say "incomplete, kept for resume: ${paths[$i]} ($why)"
           else
               rm -f -- "$part" "$part.aria2"
               say "size mismatch: ${paths[$i]} ($why); deleted"
           fi
           failed+=("${paths[$i]}") ;;
        *) rm -f -- "$part" "$part.aria2"
           say "checksum mismatch: ${paths[$i]} ($why); deleted"
           failed+=("${paths[$i]}") ;;
    esac
}

# Some mirrors (olah, for one) list file names only. Like huggingface_hub, ask
# for each such file with HEAD: the size, and the ETag, which the hub and these
# mirrors set to the sha256 (LFS files) or the git blob id (the others).
head_meta() {
    local i=$1 url raw status size etag
    url="$url_prefix/resolve/$enc_revision/${encs[$1]}"
    if [[ $lister == curl ]]; then
        raw=$(curl --silent --head --max-redirs 0 --user-agent "hfd.sh/$HFD_VERSION" \
            --connect-timeout "$timeout" --max-time "$timeout" \
            ${curl_auth[@]+"${curl_auth[@]}"} "$url" 2>/dev/null | tr -d '\r') || true
    else
        raw=$(wget --spider --server-response --max-redirect=0 --tries=1 \
            --timeout="$timeout" --user-agent="hfd.sh/$HFD_VERSION" \
            ${wget_auth[@]+"${wget_auth[@]}"} "$url" 2>&1 \
            | sed -n -e 's/^  //p' | tr -d '\r') || true
    fi
    status=$(printf '%s\n' "$raw" | sed -n -E 's#^HTTP/[0-9.]+ ([0-9]{3}).*#\1#p' | tail -n 1)
    [[ $status == 2?? || $status == 3?? ]] || return 0
    size=$(header_value x-linked-size "$raw")
    if [[ -z $size && $status == 2?? ]]; then size=$(header_value content-length "$raw"); fi
    etag=$(header_value x-linked-etag "$raw")
    [[ -n $etag ]] || etag=$(header_value etag "$raw")
    etag=$(printf '%s' "${etag#W/}" | tr -d '"' | tr 'A-F' 'a-f')
    if [[ $size =~ ^[0-9]+$ ]]; then sizes[i]=$size; fi
    if [[ $etag =~ ^[0-9a-f]{64}$ ]]; then shas[i]=$etag
    elif [[ $etag =~ ^[0-9a-f]{40}$ ]]; then blobs[i]=$etag
    fi
}

# --------------------------------------------------------------- download
no_meta=0
for ((i = 0; i < count; i++)); do
    if [[ ${sizes[i]} == - && ${shas[i]} == - && ${blobs[i]} == - ]]; then
        [[ $no_meta -gt 0 ]] || say "the listing gives no sizes or checksums; asking the mirror file by file"
        no_meta=$((no_meta + 1))
        head_meta "$i"
    fi
done
unchecked=()
for ((i = 0; i < count; i++)); do
    if [[ ${sizes[i]} == - && ${shas[i]} == - && ${blobs[i]} == - ]]; then
        unchecked+=("${paths[i]}")
    fi
done

todo=()
for ((i = 0; i < count; i++)); do
    if prepare "$i"; then todo+=("$i"); fi
done

if [[ ${#todo[@]} -gt 0 && $tool == wget ]]; then
    wget_cmd=(wget --continue --no-verbose --user-agent="hfd.sh/$HFD_VERSION"
        --tries="$tries" --waitretry="$retry_wait" --retry-connrefused --timeout="$timeout")
    wget_help=$(wget --help 2>/dev/null || true)
    if [[ $wget_help == *--retry-on-http-error* ]]; then
        wget_cmd+=("--retry-on-http-error=429,500,502,503,504")
    fi
    if [[ -t 2 ]]; then wget_cmd+=(--show-progress --progress=bar:force:noscroll); fi
    wget_cmd+=(${wget_auth[@]+"${wget_auth[@]}"})
    say "using: ${wget_cmd[*]} --output-document=FILE URL"
    n=0
    for i in "${todo[@]}"; do
        n=$((n + 1))
        dest="$local_dir/${paths[$i]}"
        url="$url_prefix/resolve/$enc_revision/${encs[$i]}"
        shown_size="?"; [[ ${sizes[$i]} == - ]] || shown_size=$(human_size "${sizes[$i]}")
        say "[$n/${#todo[@]}] ${paths[$i]} ($shown_size)"
        if [[ ${sizes[$i]} == 0 ]]; then
            : >"$dest.incomplete"  # nothing to fetch
        elif [[ ${sizes[$i]} != - && -f "$dest.incomplete" \
                && $(file_size "$dest.incomplete") == "${sizes[$i]}" ]]; then
            :  # all bytes already here, only the check is left
        else
            debug "${wget_cmd[*]} --output-document=$dest.incomplete $(redact_url "$url")"
            rc=0
            "${wget_cmd[@]}" --output-document="$dest.incomplete" "$url" || rc=$?
            if [[ $rc -ne 0 ]]; then
                say "download failed: ${paths[$i]} (wget exit code $rc) from $(redact_url "$url")"
                failed+=("${paths[$i]}")
                continue
            fi
        fi
        finish "$i"
    done
elif [[ ${#todo[@]} -gt 0 ]]; then
    # aria2c retries by itself only on 503 and network errors, so files that still
    # miss bytes get up to two more rounds (other statuses, e.g. 500, included).
    aria2c_base=(aria2c --continue=true
        --max-connection-per-server="$threads" --split="$threads" --min-split-size=1M
        --max-concurrent-downloads="$jobs" --max-tries="$tries" --retry-wait="$retry_wait"
        --timeout="$timeout" --connect-timeout="$timeout" --user-agent="hfd.sh/$HFD_VERSION"
        --file-allocation=none --auto-file-renaming=false
        --console-log-level=warn --summary-interval=0)
    say "using: ${aria2c_base[*]} --input-file=LIST"
    pending=()
    for i in "${todo[@]}"; do
        part="$local_dir/${paths[$i]}.incomplete"
        if [[ ${sizes[$i]} == 0 ]]; then
            : >"$part"  # nothing to fetch
        elif [[ ${sizes[$i]} != - && -f $part && ! -f $part.aria2 \
                && $(file_size "$part") == "${sizes[$i]}" ]]; then
            :  # all bytes already here, only the check is left
        else
            pending+=("$i")
        fi
    done
    for round in 1 2 3; do
        [[ ${#pending[@]} -gt 0 ]] || break
        input="$tmp/aria2c.input.$round"
        (
            umask 077  # the list may hold the token
            for i in "${pending[@]}"; do
                printf '%s\n' "$url_prefix/resolve/$enc_revision/${encs[$i]}"
                printf '  dir=%s\n  out=%s\n' "$local_dir" "${paths[$i]}.incomplete"
                if [[ -n $token ]]; then printf '  header=Authorization: Bearer %s\n' "$token"; fi
            done >"$input"
        )
        say "downloading ${#pending[@]} files with aria2c (round $round of 3)"
        debug "${aria2c_base[*]} --input-file=$input"
        rc=0
        "${aria2c_base[@]}" --input-file="$input" || rc=$?
        [[ $rc -ne 0 ]] || break
        still=()
        for i in "${pending[@]}"; do
            part="$local_dir/${paths[$i]}.incomplete"
            if [[ ! -f $part || -f $part.aria2 \
                    || ( ${sizes[$i]} != - && $(file_size "$part") != "${sizes[$i]}" ) ]]; then
                still+=("$i")
            fi
        done
        [[ ${#still[@]} -gt 0 ]] || break
        pending=("${still[@]}")
        say "aria2c exit code $rc; ${#pending[@]} files are not complete yet"
        [[ $round == 3 ]] || sleep "$retry_wait"
    done
    for i in "${todo[@]}"; do finish "$i"; done
fi

if [[ ${#failed[@]} -gt 0 ]]; then
    say "${#failed[@]} of $count files failed: ${failed[*]}"
    say "run the same command again to resume; a mirror that keeps failing: $hint"
    exit 1
fi
if [[ ${#unchecked[@]} -gt 0 ]]; then
    note "the mirror gave no size or checksum for ${#unchecked[@]} files, so they are not checked: ${unchecked[*]}"
    say "done: $count files in $local_dir, ${#unchecked[@]} of them unchecked"
else
    say "done: $count files in $local_dir, each checked against the size and checksum the mirror gives"
fi
