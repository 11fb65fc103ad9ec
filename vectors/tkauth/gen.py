#!/usr/bin/env python3
"""Writes der.json: the DER vectors of the jwtclaimcon digest (§4, §6) for the
tkauth and jwtclaimcon suites. Hex and values are the digest's; verify.sh
checks each DER independently with `openssl asn1parse`."""
import base64, json

def b64u(h):
    return base64.urlsafe_b64encode(bytes.fromhex(h)).decode().rstrip("=")

V = []
def add(name, source, op, desc, hexder, valid, reason=None, kind=None):
    inp = {"op": op, "description": desc}
    if kind: inp["kind"] = kind
    exp = {"der": hexder, "value": b64u(hexder), "valid": valid}
    if reason: exp["reason"] = reason
    V.append({"name": name, "source": source, "input": inp, "expected": exp})

add("TN1 SPC 1234", "RFC 9118 §5 Figure 1 (extension 1.3.6.1.5.5.7.1.26); RFC 9448 §3", "tnauthlist",
    [{"spc": "1234"}], "3008a006160431323334", True)
add("TN2 range + one", "RFC 8226 §9 ASN.1; digest §6.1", "tnauthlist",
    [{"range": {"start": "12155551000", "count": 1000}}, {"one": "12155559999"}],
    "3024a1133011160b3132313535353531303030020203e8a20d160b3132313535353539393939", True)
add("TN3 range start+count reaches 10^D", "RFC 8226 §9 (start + count < 10^D)", "tnauthlist",
    [{"range": {"start": "10", "count": 91}}], "300ba10930071602313002015b", False, "10^2")
add("TN4 range count 1", "RFC 8226 §9 (count INTEGER (2..MAX))", "tnauthlist",
    [{"range": {"start": "12155551000", "count": 1}}], "3014a1123010160b3132313535353531303030020101", False, ">= 2")
add("JC1 RFC 9118 Figure 2 Enhanced", "RFC 9118 §5 Figure 2", "jwtclaimcon",
    {"mustInclude": ["confidence"], "permittedValues": {"confidence": ["high", "medium"]}, "mustExclude": ["priority"]},
    "3040a00e300c160a636f6e666964656e6365a120301e301c160a636f6e666964656e6365300e0c04686967680c066d656469756da20c300a16087072696f72697479",
    True, kind="enhanced")
add("JC2 permittedValues attest", "RFC 8226 §8 ASN.1; digest §6.2", "jwtclaimcon",
    {"permittedValues": {"attest": ["A", "B"]}}, "3016a11430123010160661747465737430060c01410c0142", True, kind="plain")
add("JC3 mustInclude rcd", "RFC 8226 §8 ASN.1; digest §6.2", "jwtclaimcon",
    {"mustInclude": ["rcd"]}, "3009a00730051603726364", True, kind="plain")
add("JC4 Enhanced mustExclude div", "RFC 9118 §3 ASN.1; digest §6.2", "jwtclaimcon",
    {"mustExclude": ["div"]}, "3009a20730051603646976", True, kind="enhanced")
add("JC5 Enhanced all three", "RFC 9118 §3 ASN.1; digest §6.2", "jwtclaimcon",
    {"mustInclude": ["rcd"], "permittedValues": {"attest": ["A"]}, "mustExclude": ["div"]},
    "3025a00730051603726364a111300f300d160661747465737430030c0141a20730051603646976", True, kind="enhanced")
add("JC6 empty JWTClaimConstraints", "RFC 8226 §8 (mustInclude or permittedValues PRESENT)", "jwtclaimcon",
    {}, "3000", False, "no component", kind="plain")

bad = [
    ("TB1 IMPLICIT-tagged SPC", "RFC 8226 Appendix A: EXPLICIT TAGS", "3006800431323334"),
    ("TB2 empty TNAuthorizationList", "RFC 8226 §9 SIZE (1..MAX)", "3000"),
    ("TB3 BER long-form length", "RFC 9448 §3: DER", "308108a006160431323334"),
    ("TB4 TelephoneNumber with a letter", "RFC 8226 §9 FROM (\"0123456789#*\")", "3006a204160231a1"),
    ("TB5 trailing byte", "RFC 9448 §3: DER", "3008a00616043132333400"),
]
for name, src, h in bad:
    V.append({"name": name, "source": src, "input": {"op": "tnauthlist_bad", "der": h},
              "expected": {"valid": False}})

V.append({"name": "FP1 fingerprint of the RFC 7638 §3.1 key", "source": "RFC 9448 §5.4 (thumbprint, RFC 8555 §8.1); print form of the RFC examples",
          "input": {"op": "fingerprint", "thumbprint": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
          "expected": {"fingerprint": "SHA256 37:36:CB:B1:78:7C:B8:30:9C:77:EE:8C:37:05:C5:E1:6F:FB:9E:85:97:15:90:1F:1E:4C:59:B1:11:82:F5:7B"}})
V.append({"name": "ID1 padded identifier value", "source": "RFC 9448 §3 (base64url, MUST NOT pad)",
          "input": {"op": "value", "value": "MAigBhYEMTIzNA=="}, "expected": {"valid": False}})
V.append({"name": "ID2 standard-alphabet value", "source": "RFC 9448 §3",
          "input": {"op": "value", "value": "MCShEzARFgsxMjE1NTU1MTAwMAICA+iiDRYLMTIxNTU1NTk5OTk="}, "expected": {"valid": False}})
V.append({"name": "TK1 RFC 9448 §5.4 example claims (shape)", "source": "RFC 9448 §5.4",
          "input": {"op": "claims_example", "header": {"typ": "JWT", "alg": "ES256", "x5u": "https://authority.example.org/cert"},
                    "claims": {"iss": "https://authority.example.org", "exp": 1640995200, "jti": "id6098364921",
                               "atc": {"tktype": "TNAuthList", "tkvalue": "F83n2a...avn27DN3", "ca": False,
                                       "fingerprint": "SHA256 56:3E:CF:AE:83:CA:4D:15:B0:29:FF:1B:71:D3:BA:B9:19:81:F8:50:9B:DF:4A:D4:39:72:E2:B1:F0:B9:38:E3"}}},
          "expected": {"note": "illustrative: no key or signature is published; expired (exp 2022-01-01)"}})

json.dump({"spec": "tkauth", "description": "Authority tokens: TNAuthList (RFC 8226 §9 / RFC 9448 §3) and (Enhanced)JWTClaimConstraints (RFC 8226 §8, RFC 9118 §3) DER, identifier values, the atc fingerprint; verify.sh checks every DER with openssl asn1parse.", "vectors": V},
          open("der.json", "w"), indent=1)
