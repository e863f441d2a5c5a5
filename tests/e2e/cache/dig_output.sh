# Sourced by the answer cache's end-to-end tests: parsers for kdig's and dig's output, and the
# negative answer of the test zone cache.test (tests/e2e/cache/cache.test.zone). The sourcing test
# defines `fail`.
status_of() { sed -n 's/.*status: \([A-Z]*\)[;,].*/\1/p' <<<"$1"; }
flags_of() { sed -n 's/^;; [Ff]lags: \([^;]*\);.*/\1/p' <<<"$1"; }
section() {  # ANSWER|AUTHORITY|ADDITIONAL OUTPUT → that section's records, one a line
  awk -v s="$1 SECTION:" '/^;/ { on = index($0, s) > 0; next } /^$/ { on = 0 } on' <<<"$2"
}
has_opt() { grep -Eq 'EDNS PSEUDOSECTION|OPT PSEUDOSECTION' <<<"$1"; }
ttl_in() {  # TTL MIN MAX
  [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= $2 && $1 <= $3))
}
# expect_negative OUTPUT RCODE SOA_TTL_MIN SOA_TTL_MAX WHAT: no answer, the cache.test SOA alone
# in authority.
expect_negative() {
  local auth owner ttl class type
  [ "$(status_of "$1")" = "$2" ] || fail "$5: not $2: $1"
  [ -z "$(section ANSWER "$1")" ] || fail "$5: answer records in a negative answer: $1"
  auth=$(section AUTHORITY "$1")
  read -r owner ttl class type _ <<<"$auth"
  [ "$(wc -l <<<"$auth")" = 1 ] && [ "${owner,,} $class $type" = "cache.test. IN SOA" ] ||
    fail "$5: authority is not the cache.test SOA: $1"
  ttl_in "$ttl" "$3" "$4" || fail "$5: SOA TTL $ttl, want $3..$4: $1"
}
relayed_flags="qr aa rd"  # Knot's, relayed untouched
cached_flags="qr rd ra"   # from the cache: AA clear, RA set, RD copied
