"""Writes seed inputs for fuzz_worker (test/fuzz/fuzz_worker.cpp) into the directory given: calls over
UDP and over TCP (whole, split, out of order, repeated) to the ALG's port and the helper's, in the
target's record format."""
import struct
import sys
from pathlib import Path


def sip(text, body=''):
    head = text.strip('\n').replace('\n', '\r\n') + '\r\n'
    b = body.strip('\n').replace('\n', '\r\n') + '\r\n' if body else ''
    return (head + f'Content-Length: {len(b)}\r\n\r\n' + b).encode()


SDP = """v=0
o=a 1 1 IN IP4 10.0.1.2
s=-
c=IN IP4 10.0.1.2
t=0 0
m=audio 4000 RTP/AVP 0"""


def invite(t='UDP'):
    return sip(f"""INVITE sip:b@198.51.100.2 SIP/2.0
Via: SIP/2.0/{t} 10.0.1.2:5060;branch=z9hG4bK1;rport
From: A <sip:a@10.0.1.2>;tag=1
To: <sip:b@198.51.100.2>
Call-ID: c1@10.0.1.2
CSeq: 1 INVITE
Contact: <sip:a@10.0.1.2:5060>
Content-Type: application/sdp""", SDP)


def ok(t='UDP'):
    return sip(f"""SIP/2.0 200 OK
Via: SIP/2.0/{t} 198.51.100.1:5060;branch=z9hG4bK1;rport=5060;received=198.51.100.1
From: A <sip:a@198.51.100.1>;tag=1
To: <sip:b@198.51.100.2>;tag=2
Call-ID: c1@198.51.100.1
CSeq: 1 INVITE
Contact: <sip:b@198.51.100.2>
Content-Type: application/sdp""", SDP.replace('10.0.1.2', '198.51.100.2').replace('4000', '6000'))


def bye(t='UDP'):
    return sip(f"""BYE sip:b@198.51.100.2 SIP/2.0
Via: SIP/2.0/{t} 10.0.1.2:5060;branch=z9hG4bK3;rport
From: A <sip:a@10.0.1.2>;tag=1
To: <sip:b@198.51.100.2>;tag=2
Call-ID: c1@10.0.1.2
CSeq: 2 BYE""")


def udp(payload, outside=False, helper=False):
    return bytes([(0x40 if outside else 0) | (0x20 if helper else 0)]) + struct.pack('>H', len(payload)) + payload


def tcp(conn, payload, seq, ack=0, outside=False, flags=8):
    return bytes([0x80 | conn << 5 | (0x10 if outside else 0) | flags]) + struct.pack('>HHH', seq, ack, len(payload)) + payload


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = {
        'udp-call-alg': udp(invite()) + udp(ok(), outside=True) + udp(bye()),
        'udp-call-helper': udp(invite(), helper=True) + udp(ok(), outside=True, helper=True) + udp(bye(), helper=True),
    }
    i, o, b = invite('TCP'), ok('TCP'), bye('TCP')
    for conn in (0, 1):
        seeds[f'tcp-call-{conn}'] = tcp(conn, i, 0) + tcp(conn, o, 0, len(i), outside=True) + tcp(conn, b, len(i), len(o))
        half = len(i) // 2
        seeds[f'tcp-split-reordered-{conn}'] = tcp(conn, i[half:], half) + tcp(conn, i[:half], 0) + tcp(conn, i[:half], 0)
        seeds[f'tcp-several-fin-{conn}'] = tcp(conn, i + b'\r\n\r\n' + b, 0, flags=9)
    seeds['tcp-http-then-sip'] = tcp(0, b'POST / HTTP/1.1\r\nContent-Length: 900\r\n\r\n', 0) + tcp(0, i, 40)
    for name, data in seeds.items():
        (out / name).write_bytes(data)


if __name__ == '__main__':
    main(sys.argv[1])
