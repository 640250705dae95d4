#!/bin/sh
# mktsa.sh DIR - create sunarchive's local test TSA in DIR (no network).
#
#   ca1.pem/.key      trusted test root
#   tsa1.pem/.key     TSA certificate under ca1 (critical timeStamping EKU,
#                     critical digitalSignature, critical CA:false)
#   tsa1b.pem/.key    a second good TSA certificate under ca1
#   noeku.pem/.key    under ca1, no extendedKeyUsage
#   noncrit.pem/.key  under ca1, timeStamping EKU not marked critical
#   expired.pem/.key  TSA profile under ca1, expired in 2020
#   ca2.pem/.key      the "untrusted" root
#   tsa2.pem/.key     TSA certificate under ca2
#   tsa.cnf           CA and [tsa] configuration (from tsa.cnf.in)
#
# Then: openssl ts -reply -config DIR/tsa.cnf -queryfile req.tsq \
#           -inkey DIR/tsa1.key -signer DIR/tsa1.pem -out resp.tsr
# Keys are P-256 (fast to make). Test material only: never trust ca1.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
case $dir in
*'|'* | *'&'* | *'\'* | *'
'*)
	echo "mktsa.sh: unsupported character in '$dir'" >&2
	exit 2
	;;
esac
cnf=$dir/tsa.cnf
sed "s|@DIR@|$dir|g" "$here/tsa.cnf.in" > "$cnf"
echo 01 > "$dir/tsaserial"

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$dir/$1.key" 2>/dev/null
}

root() {	# root NAME CN
	key "$1"
	mkdir -p "$dir/$1.db"
	: > "$dir/$1.db/index.txt"
	echo 1000 > "$dir/$1.db/serial"
	openssl req -new -x509 -config "$cnf" -extensions v3_root \
	    -key "$dir/$1.key" -subj "/O=sunarchive test/CN=$2" \
	    -days 3650 -sha256 -out "$dir/$1.pem"
}

leaf() {	# leaf NAME CA PROFILE CN [openssl ca validity options]
	name=$1 ca=$2 profile=$3 cn=$4
	shift 4
	key "$name"
	openssl req -new -config "$cnf" -key "$dir/$name.key" \
	    -subj "/O=sunarchive test/CN=$cn" -out "$dir/$name.csr"
	openssl ca -batch -notext -config "$cnf" -name "$ca" \
	    -extensions "$profile" -in "$dir/$name.csr" \
	    -out "$dir/$name.pem" "$@" 2>/dev/null
	rm -f "$dir/$name.csr"
}

root ca1 "sunarchive test root"
root ca2 "sunarchive untrusted root"
leaf tsa1 ca1 v3_tsa "sunarchive test TSA 1"
leaf tsa1b ca1 v3_tsa "sunarchive test TSA 1b"
leaf noeku ca1 v3_noeku "sunarchive test no EKU"
leaf noncrit ca1 v3_noncrit "sunarchive test non-critical EKU"
leaf expired ca1 v3_tsa "sunarchive test expired TSA" \
    -startdate 200101000000Z -enddate 200102000000Z
leaf tsa2 ca2 v3_tsa "sunarchive untrusted TSA 2"
