/*
 * tsa_ca.h - written by tests/fuzz/mkcorpus.py: the root certificate of
 * the local test TSA (tests/tsa/mktsa.sh) that signed the TSA seeds in
 * corpus/connectors/, and the digest they stamp. Test material only.
 */
#ifndef SUNARCHIVE_FUZZ_TSA_CA_H
#define SUNARCHIVE_FUZZ_TSA_CA_H

static const char fuzz_tsa_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBtzCCAVygAwIBAgIUHtIGhksqi0AHvEhR+62CGj9MUxgwCgYIKoZIzj0EAwIw\n"
	"OTEYMBYGA1UECgwPc3VuYXJjaGl2ZSB0ZXN0MR0wGwYDVQQDDBRzdW5hcmNoaXZl\n"
	"IHRlc3Qgcm9vdDAeFw0yNjExMjIwMzI0MTNaFw0zNjExMTkwMzI0MTNaMDkxGDAW\n"
	"BgNVBAoMD3N1bmFyY2hpdmUgdGVzdDEdMBsGA1UEAwwUc3VuYXJjaGl2ZSB0ZXN0\n"
	"IHJvb3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASwmEJ5e9EKmlVxH3+YkLsK\n"
	"5Bacg452nDbHU1cGUyQJnbvW440fEoZo7rZQUu/Z7KcDNKVi5yNnpL1eDivxZIsr\n"
	"o0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQU\n"
	"albGMUVhu5q3YRbDBuzpwEQrxYEwCgYIKoZIzj0EAwIDSQAwRgIhAPiP0oXtRLVP\n"
	"5RZGmUhIdm9Q2Mechd2SOtnbVaZGyJ6ZAiEA1Ot0LRl1qBdCP4Gw9bar66tf2JN5\n"
	"MGNg2cq3QzC5bWA=\n"
	"-----END CERTIFICATE-----\n"
;

static const unsigned char fuzz_tsa_digest[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f
};

#endif
