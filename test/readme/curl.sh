# curl as the reader runs it, except that it prints the HTTP status on stderr (after the body on
# stdout, so `$(curl ...)` captures what the reader's would) and fails the block on anything but 2xx.
curl() {
  local out status
  out=$(command curl -sS --max-time 30 -w '\n%{http_code}' "$@") || { echo "curl failed: $*" >&2; return 1; }
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  printf '%s\n' "$out"
  echo "HTTP $status $*" >&2
  case $status in 2??) ;; *) echo "not 2xx: $status for curl $*: $out" >&2; return 1 ;; esac
}
