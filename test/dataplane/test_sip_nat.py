"""A SIP call over UDP through SNAT, over net_pcap, under the SIP ALG and under the session helper: the
INVITE leaves with no inside address in SIP or SDP, its media port translated to a pinhole; the 200 OK
comes back with the phone's own Via; RTP crosses the pinhole both ways; the BYE closes it; a message
the engine cannot parse passes unchanged. Read field by field with tshark.

Ordering (as in test_nat.py): a worker polls port 0 (inside) then port 1 (outside), up to 32 frames
each; 31 or 32 frames for another MAC (dropped) push what follows into the next round."""
import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from pcap_env import INSIDE_MAC, OUTSIDE_MAC, SIP_BASE, from_inside, from_outside, sip
from sipalg_tools import tshark
from sipalg_tools.daemon import run_pcap

BASE = SIP_BASE
KERNEL = 'system:\n  settings: {default-voip-alg-mode: kernel-helper-based}\n'
# The first even port of the only worker's slice (1024-65535) is the first media pair handed out.
PUBLIC_RTP = 1024

CALL_ID = 'a84b4c76e66710@10.0.1.2'


INVITE = sip(f"""INVITE sip:bob@198.51.100.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@198.51.100.2>
From: Alice <sip:alice@10.0.1.2>;tag=1928301774
Call-ID: {CALL_ID}
CSeq: 314159 INVITE
Contact: <sip:alice@10.0.1.2:5060>
Content-Type: application/sdp""", """v=0
o=alice 2890844526 2890844526 IN IP4 10.0.1.2
s=-
c=IN IP4 10.0.1.2
t=0 0
m=audio 4000 RTP/AVP 0
a=rtpmap:0 PCMU/8000""")

OK = sip("""SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK776asdhds;received=198.51.100.1;rport=5060
To: Bob <sip:bob@198.51.100.2>;tag=a6c85cf
From: Alice <sip:alice@198.51.100.1>;tag=1928301774
Call-ID: a84b4c76e66710@198.51.100.1
CSeq: 314159 INVITE
Contact: <sip:bob@198.51.100.2>
Content-Type: application/sdp""", """v=0
o=bob 1 1 IN IP4 198.51.100.2
s=-
c=IN IP4 198.51.100.2
t=0 0
m=audio 6000 RTP/AVP 0""")

ACK = sip(f"""ACK sip:bob@198.51.100.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK776asdhdt;rport
To: Bob <sip:bob@198.51.100.2>;tag=a6c85cf
From: Alice <sip:alice@10.0.1.2>;tag=1928301774
Call-ID: {CALL_ID}
CSeq: 314159 ACK""")

BYE = sip(f"""BYE sip:bob@198.51.100.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK776asdhdu;rport
To: Bob <sip:bob@198.51.100.2>;tag=a6c85cf
From: Alice <sip:alice@10.0.1.2>;tag=1928301774
Call-ID: {CALL_ID}
CSeq: 314160 BYE""")


def with_sdp(message, change):
    """`message` with its SDP body changed by `change` (text with \\n line ends), lengths redone."""
    head, body = message.decode().split('\r\n\r\n', 1)
    head = '\n'.join(line for line in head.split('\r\n') if not line.startswith('Content-Length'))
    return sip(head, change(body.strip('\r\n').replace('\r\n', '\n')))


def fillers(n, inside=True):
    src = INSIDE_MAC if inside else OUTSIDE_MAC
    dst = '02:00:00:00:00:99'
    return [Ether(src=src, dst=dst) / IP(src='10.0.1.2', dst='198.51.100.2') / UDP() for _ in range(n)]


def out_sip(payload):
    return from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=5060, dport=5060) / Raw(payload))


def rtp(i):
    return b'\x80\x00' + i.to_bytes(2, 'big') + b'\x00' * 8 + b'\xff' * 160


def payloads(pcap, flt='udp'):
    rows = tshark.fields(pcap, ['ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport', 'ip.checksum.status',
                                'udp.checksum.status', 'udp.payload'], flt)
    for r in rows:
        r['text'] = bytes.fromhex(r['udp.payload']).decode(errors='replace')
    return rows


@pytest.fixture(params=['alg', 'helper'])
def call(request):
    inside = ([out_sip(INVITE)] + fillers(31) +
              [out_sip(ACK)] +
              [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=4000, dport=6000) / Raw(rtp(i)))
               for i in range(2)] +
              [out_sip(BYE)] +
              [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=4000, dport=6000) / Raw(rtp(9)))] +
              fillers(27))
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(OK))] +
               [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=6000, dport=PUBLIC_RTP) /
                             Raw(rtp(i))) for i in range(2)] +
               fillers(29 + 32, inside=False) +
               # After the BYE: the pinhole is closed, media of the call is refused.
               [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=6000, dport=PUBLIC_RTP) /
                             Raw(rtp(5)))])
    config = BASE
    if request.param == 'helper':
        config = config.replace('system:\n', KERNEL, 1)
    run = run_pcap(config, [inside, outside])
    assert run.returncode == 0, run.stderr
    run.engine = request.param
    return run


def test_the_invite_leaves_with_only_public_addresses_and_a_translated_media_port(call):
    sent = [r for r in payloads(call.outputs[1], 'udp.port == 5060')]
    invite = next(r for r in sent if r['text'].startswith('INVITE'))
    text = invite['text']
    assert '10.0.1.2' not in text, text
    assert (invite['ip.src'], invite['udp.srcport']) == ('198.51.100.1', '5060')
    assert (invite['ip.checksum.status'], invite['udp.checksum.status']) == ('1', '1')
    assert 'Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK776asdhds;rport\r\n' in text
    assert 'Contact: <sip:alice@198.51.100.1:5060>\r\n' in text
    assert 'Call-ID: a84b4c76e66710@198.51.100.1\r\n' in text
    assert 'c=IN IP4 198.51.100.1\r\n' in text and 'o=alice 2890844526 2890844526 IN IP4 198.51.100.1\r\n' in text
    assert f'm=audio {PUBLIC_RTP} RTP/AVP 0\r\n' in text
    body = text.split('\r\n\r\n', 1)[1]
    assert f'Content-Length: {len(body)}\r\n' in text


def test_the_answer_comes_back_with_the_phones_own_via_and_the_media_crosses_both_ways(call):
    inside = payloads(call.outputs[0])
    ok = next(r for r in inside if r['text'].startswith('SIP/2.0 200'))
    assert (ok['ip.dst'], ok['udp.dstport'], ok['udp.checksum.status']) == ('10.0.1.2', '5060', '1')
    assert 'Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK776asdhds;received=10.0.1.2;rport=5060\r\n' in ok['text']
    assert 'Call-ID: a84b4c76e66710@10.0.1.2\r\n' in ok['text']
    assert 'From: Alice <sip:alice@10.0.1.2>;tag=1928301774\r\n' in ok['text']
    media_in = [r for r in inside if r['udp.srcport'] == '6000']
    assert [(r['ip.dst'], r['udp.dstport'], r['udp.checksum.status']) for r in media_in] == [('10.0.1.2', '4000', '1')] * 2
    media_out = [r for r in payloads(call.outputs[1], 'udp.dstport == 6000') if not r['udp.payload'].startswith('80000009')]
    assert [(r['ip.src'], r['udp.srcport'], r['udp.checksum.status']) for r in media_out] == \
        [('198.51.100.1', str(PUBLIC_RTP), '1')] * 2
    assert call.counter('pinholes_opened') == 2  # RTP and RTCP
    assert call.counter('pinhole_sessions') == 1  # one session for the stream, both ways


def test_the_bye_closes_the_pinholes_and_the_calls_media(call):
    assert call.counter('sip_calls_ended') == 1
    # The stream's session goes with its pinhole at its next packet, which the policy then takes as any
    # new flow (another public port); media to the call's public port finds nothing.
    assert call.counter('media_sessions_closed') == 1
    after = [r for r in payloads(call.outputs[1]) if r['udp.payload'].startswith('80000009')]
    assert len(after) == 1 and after[0]['udp.srcport'] != str(PUBLIC_RTP)
    assert call.counter('drop_local_unhandled') == 1  # to our address and a port nothing holds now
    assert not [r for r in payloads(call.outputs[0]) if r['udp.srcport'] == '6000' and r['udp.payload'].startswith('80000005')]
    bye = [r for r in payloads(call.outputs[1], 'udp.port == 5060') if r['text'].startswith('BYE')]
    assert len(bye) == 1 and '10.0.1.2' not in bye[0]['text']
    engine_counter = 'sip_sessions_alg' if call.engine == 'alg' else 'sip_sessions_helper'
    assert call.counter(engine_counter) == 1


def test_a_payload_that_is_not_sip_passes_unchanged_and_is_counted():
    junk = b'\x00\x01 not a SIP message at all 10.0.1.2'
    run = run_pcap(BASE, [[out_sip(junk)], None])
    rows = payloads(run.outputs[1], 'udp')
    assert len(rows) == 1 and bytes.fromhex(rows[0]['udp.payload']) == junk
    assert rows[0]['udp.checksum.status'] == '1'
    assert run.counter('sip_unparsed') == 1


def test_rtp_disable_translates_signalling_but_opens_no_pinhole():
    profile = BASE + 'voip:\n  profile:\n    default: {sip: {status: enable, rtp: disable}}\n'
    run = run_pcap(profile, [[out_sip(INVITE)], None])
    rows = [r for r in payloads(run.outputs[1], 'udp') if r['text'].startswith('INVITE')]
    assert len(rows) == 1
    assert 'm=audio 4000 RTP/AVP 0\r\n' in rows[0]['text'] and 'c=IN IP4 198.51.100.1\r\n' in rows[0]['text']
    assert run.counter('pinholes_opened') == 0


def test_a_reinvite_that_moves_the_media_closes_the_old_pinholes():
    inside = [out_sip(INVITE)] + fillers(31) + [out_sip(in_dialog('INVITE', 314161, 'media', 4002))] + fillers(31)
    to_public = [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=6000, dport=port) / Raw(rtp(i)))
                 for i, port in enumerate((PUBLIC_RTP, PUBLIC_RTP + 2))]
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(OK))] +
               fillers(31 + 32, inside=False) + to_public)
    run = run_pcap(BASE, [inside, outside])
    sent = [r for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    assert len(sent) == 2
    assert f'm=audio {PUBLIC_RTP} ' in sent[0]['text'] and f'm=audio {PUBLIC_RTP + 2} ' in sent[1]['text']
    delivered = [r for r in payloads(run.outputs[0]) if r['udp.srcport'] == '6000']
    # Only the stream's new port is open; the old one went with the re-INVITE.
    assert [(r['ip.dst'], r['udp.dstport']) for r in delivered] == [('10.0.1.2', '4002')]
    assert run.counter('pinholes_opened') == 4
    assert run.counter('drop_local_unhandled') == 1


REGISTER = sip("""REGISTER sip:198.51.100.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bKreg1;rport
To: <sip:alice@198.51.100.2>
From: <sip:alice@198.51.100.2>;tag=r1
Call-ID: reg-1@10.0.1.2
CSeq: 1 REGISTER
Contact: <sip:alice@10.0.1.2:5060>;expires=3600""")

REGISTERED = sip("""SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKreg1;received=198.51.100.1;rport=5060
To: <sip:alice@198.51.100.2>;tag=x9
From: <sip:alice@198.51.100.2>;tag=r1
Call-ID: reg-1@198.51.100.1
CSeq: 1 REGISTER
Contact: <sip:alice@198.51.100.1:5060>;expires=600""")

INBOUND_INVITE = sip("""INVITE sip:alice@198.51.100.1:5060 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.2:5070;branch=z9hG4bKin1
To: <sip:alice@198.51.100.2>
From: <sip:carol@198.51.100.2>;tag=c1
Call-ID: in-1@198.51.100.2
CSeq: 1 INVITE
Contact: <sip:carol@198.51.100.2:5070>
Content-Type: application/sdp""", """v=0
o=carol 1 1 IN IP4 198.51.100.2
s=-
c=IN IP4 198.51.100.2
t=0 0
m=audio 7000 RTP/AVP 0""")


def test_a_registered_phone_is_reached_by_an_inbound_call_through_its_registration_pinhole():
    inside = [out_sip(REGISTER)] + fillers(31)
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(REGISTERED))] +
               # From another port of the outside: no session, no policy inbound; only the registration lets it in.
               [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5070, dport=5060) / Raw(INBOUND_INVITE))])
    run = run_pcap(BASE, [inside, outside])
    assert run.counter('registrations_opened') == 1
    got = [r for r in payloads(run.outputs[0], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    assert len(got) == 1
    assert (got[0]['ip.dst'], got[0]['udp.dstport'], got[0]['udp.checksum.status']) == ('10.0.1.2', '5060', '1')
    assert got[0]['text'].startswith('INVITE sip:alice@10.0.1.2:5060 SIP/2.0\r\n')
    assert run.counter('pinhole_sessions') == 1


def test_without_a_registration_the_inbound_call_is_refused():
    outside = [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5070, dport=5060) / Raw(INBOUND_INVITE))]
    run = run_pcap(BASE, [None, outside])
    assert tshark.count(run.outputs[0], 'udp') == 0
    assert run.counter('pinhole_sessions') == 0


def registration_run(profile_sip, inbound_from):
    config = BASE + f'voip:\n  profile:\n    default: {{sip: {{{profile_sip}}}}}\n'
    inside = [out_sip(REGISTER)] + fillers(31)
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(REGISTERED))] +
               [from_outside(IP(src=inbound_from, dst='198.51.100.1') / UDP(sport=5070, dport=5060) / Raw(INBOUND_INVITE))])
    run = run_pcap(config, [inside, outside])
    delivered = [r for r in payloads(run.outputs[0], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    return run, delivered


def test_strict_register_lets_only_the_registrar_through_the_registration_pinhole():
    run, delivered = registration_run('status: enable', '198.51.100.3')
    assert delivered == [] and run.counter('pinhole_peer_refused') == 1
    run, delivered = registration_run('status: enable, strict-register: disable', '198.51.100.3')
    assert len(delivered) == 1 and delivered[0]['ip.src'] == '198.51.100.3'


def test_open_register_pinhole_disabled_opens_none():
    run, delivered = registration_run('status: enable, open-register-pinhole: disable', '198.51.100.2')
    assert delivered == [] and run.counter('registrations_opened') == 0


def test_no_sdp_fixup_leaves_the_sdp_as_written_and_opens_its_ports():
    # The phone (a PBX) already writes the public address; the SDP must not be translated again.
    invite = INVITE.replace(b'c=IN IP4 10.0.1.2', b'c=IN IP4 198.51.100.1')
    config = BASE + 'voip:\n  profile:\n    default: {sip: {status: enable, no-sdp-fixup: enable}}\n'
    inside = [out_sip(invite)] + fillers(31)
    outside = [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=6000, dport=4000) / Raw(rtp(1)))]
    run = run_pcap(config, [inside, outside])
    sent = [r for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    assert len(sent) == 1
    body = sent[0]['text'].split('\r\n\r\n', 1)[1]
    assert body == invite.decode().split('\r\n\r\n', 1)[1]  # as written
    assert 'Via: SIP/2.0/UDP 198.51.100.1:5060' in sent[0]['text']  # headers still translated
    media = [r for r in payloads(run.outputs[0]) if r['udp.srcport'] == '6000']
    assert [(r['ip.dst'], r['udp.dstport']) for r in media] == [('10.0.1.2', '4000')]


PBX = BASE.split('firewall:')[0] + """firewall:
  vip:
    pbx: {extintf: wan1, extip: 198.51.100.10, mappedip: 10.0.1.2}
  policy:
    2: {name: to-pbx, srcintf: wan1, dstintf: port1, srcaddr: all, dstaddr: pbx, action: accept, service: ALL}
"""


def test_an_inbound_call_through_a_vip_reaches_the_inside_pbx_and_its_answer_leaves_as_the_vip():
    invite = sip("""INVITE sip:pbx@198.51.100.10 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bKv1
To: <sip:pbx@198.51.100.10>
From: <sip:carol@198.51.100.2>;tag=c9
Call-ID: vip-1@198.51.100.2
CSeq: 1 INVITE
Contact: <sip:carol@198.51.100.2:5060>
Content-Type: application/sdp""", "v=0\no=carol 1 1 IN IP4 198.51.100.2\ns=-\nc=IN IP4 198.51.100.2\nt=0 0\nm=audio 7000 RTP/AVP 0")
    answer = sip("""SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bKv1
To: <sip:pbx@10.0.1.2>;tag=p1
From: <sip:carol@198.51.100.2>;tag=c9
Call-ID: vip-1@198.51.100.2
CSeq: 1 INVITE
Contact: <sip:pbx@10.0.1.2:5060>
Content-Type: application/sdp""", "v=0\no=pbx 1 1 IN IP4 10.0.1.2\ns=-\nc=IN IP4 10.0.1.2\nt=0 0\nm=audio 4000 RTP/AVP 0")
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.10') / UDP(sport=5060, dport=5060) / Raw(invite))] +
               fillers(31 + 32, inside=False) +
               [from_outside(IP(src='198.51.100.2', dst='198.51.100.10') / UDP(sport=7000, dport=PUBLIC_RTP) / Raw(rtp(1)))])
    inside = fillers(32) + [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=5060, dport=5060) / Raw(answer))]
    run = run_pcap(PBX, [inside, outside])
    got = [r for r in payloads(run.outputs[0], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    assert len(got) == 1 and got[0]['ip.dst'] == '10.0.1.2'
    assert got[0]['text'].startswith('INVITE sip:pbx@10.0.1.2 SIP/2.0\r\n')
    assert 'To: <sip:pbx@10.0.1.2>\r\n' in got[0]['text']
    sent = [r for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('SIP/2.0 200')]
    assert len(sent) == 1 and sent[0]['ip.src'] == '198.51.100.10' and sent[0]['udp.checksum.status'] == '1'
    text = sent[0]['text']
    assert '10.0.1.2' not in text
    assert 'Contact: <sip:pbx@198.51.100.10:5060>\r\n' in text and 'c=IN IP4 198.51.100.10\r\n' in text
    assert f'm=audio {PUBLIC_RTP} RTP/AVP 0\r\n' in text
    media = [r for r in payloads(run.outputs[0]) if r['udp.srcport'] == '7000']
    assert [(r['ip.dst'], r['udp.dstport']) for r in media] == [('10.0.1.2', '4000')]
    assert run.counter('sip_sessions_alg') == 1


def in_dialog(method, cseq, body=None, port=None):
    sdp = None
    if body == 'hold':
        sdp = 'v=0\no=alice 2890844526 2890844528 IN IP4 10.0.1.2\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\na=sendonly'
    elif body == 'media':
        sdp = f'v=0\no=alice 2890844526 2890844529 IN IP4 10.0.1.2\ns=-\nc=IN IP4 10.0.1.2\nt=0 0\nm=audio {port} RTP/AVP 0'
    head = f"""{method} sip:bob@198.51.100.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK{method}{cseq};rport
To: Bob <sip:bob@198.51.100.2>;tag=a6c85cf
From: Alice <sip:alice@10.0.1.2>;tag=1928301774
Call-ID: {CALL_ID}
CSeq: {cseq} {method}
Contact: <sip:alice@10.0.1.2:5060>""" + ('\nContent-Type: application/sdp' if sdp else '')
    return sip(head, sdp or '')


def test_sdp_in_a_prack_or_an_update_moves_the_media_as_a_reinvite_does():
    # RFC 3262 §5 (an offer in a PRACK) and RFC 3311 (UPDATE): each new SDP of the phone describes all
    # its media; the stream's last port is the only one open.
    inside = ([out_sip(INVITE)] + fillers(31) + [out_sip(in_dialog('PRACK', 2, 'media', 4002))] + fillers(31) +
              [out_sip(in_dialog('UPDATE', 3, 'media', 4004))] + fillers(31))
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(OK))] +
               fillers(31 + 32 + 32, inside=False) +
               [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=6000, dport=PUBLIC_RTP + k) / Raw(rtp(k)))
                for k in (0, 2, 4)])
    run = run_pcap(BASE, [inside, outside])
    sent = {r['text'].split(' ', 1)[0]: r['text'] for r in payloads(run.outputs[1], 'udp.port == 5060')}
    assert f'm=audio {PUBLIC_RTP + 2} RTP/AVP 0\r\n' in sent['PRACK'] and '10.0.1.2' not in sent['PRACK']
    assert f'm=audio {PUBLIC_RTP + 4} RTP/AVP 0\r\n' in sent['UPDATE'] and '10.0.1.2' not in sent['UPDATE']
    delivered = [(r['udp.payload'][:8], r['udp.dstport']) for r in payloads(run.outputs[0]) if r['udp.srcport'] == '6000']
    assert delivered == [('80000004', '4004')]
    assert run.counter('pinholes_opened') == 6


def test_hold_closes_the_media_pinholes_and_resume_opens_new_ones():
    # Media flows before the hold (a session of the stream exists); the phone sends once more while
    # held, which the policy takes as any new flow; the resume is on the same inside port: its first
    # packet in finds that flow's session in the way, which ends, and the phone's next packet leaves
    # from the resumed stream's public port.
    def to_phone(i, port):
        return from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=6000, dport=port) / Raw(rtp(i)))

    def from_phone(i):
        return from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=4000, dport=6000) / Raw(rtp(i)))

    inside = ([out_sip(INVITE)] + fillers(31) + [out_sip(in_dialog('INVITE', 2, 'hold')), from_phone(6)] + fillers(30) +
              [out_sip(in_dialog('INVITE', 3, 'media', 4000))] + fillers(31) + fillers(32) + [from_phone(7)])
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(OK)),
                to_phone(1, PUBLIC_RTP)] + fillers(30 + 32 + 32, inside=False) +
               [to_phone(2, PUBLIC_RTP + 2), to_phone(3, PUBLIC_RTP)])
    run = run_pcap(BASE, [inside, outside])
    sent = [r['text'] for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    assert len(sent) == 3
    assert 'c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' in sent[1]  # held: nothing to open
    assert f'm=audio {PUBLIC_RTP + 2} RTP/AVP 0\r\n' in sent[2]               # resumed on a new pair
    delivered = [(r['udp.payload'][:8], r['udp.dstport']) for r in payloads(run.outputs[0]) if r['udp.srcport'] == '6000']
    assert delivered == [('80000001', '4000'), ('80000002', '4000')]  # not the one to the held port
    out = [(r['udp.payload'][:8], r['udp.srcport']) for r in payloads(run.outputs[1], 'udp.dstport == 6000')]
    assert out[1] == ('80000007', str(PUBLIC_RTP + 2))
    assert out[0][0] == '80000006' and out[0][1] not in (str(PUBLIC_RTP), str(PUBLIC_RTP + 2))  # by the policy
    assert run.counter('pinholes_opened') == 4
    assert run.counter('media_sessions_closed') == 1 and run.counter('sessions_taken_by_pinhole') == 1
    assert run.counter('pinhole_sessions') == 2


def test_a_late_offer_in_the_ack_opens_the_media():
    invite = INVITE.split(b'Content-Type')[0] + b'Content-Length: 0\r\n\r\n'
    inside = [out_sip(invite)] + fillers(31) + [out_sip(in_dialog('ACK', 314159, 'media', 4000))] + fillers(31)
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(OK))] +
               fillers(31 + 32, inside=False) +
               [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=6000, dport=PUBLIC_RTP) / Raw(rtp(1)))])
    run = run_pcap(BASE, [inside, outside])
    ack = [r['text'] for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('ACK')]
    assert len(ack) == 1 and f'm=audio {PUBLIC_RTP} RTP/AVP 0\r\n' in ack[0] and '10.0.1.2' not in ack[0]
    delivered = [(r['ip.dst'], r['udp.dstport']) for r in payloads(run.outputs[0]) if r['udp.srcport'] == '6000']
    assert delivered == [('10.0.1.2', '4000')]


def test_a_stream_the_answer_rejects_has_its_pinholes_closed():
    # RFC 3264 §6: the phone offers audio and video; the answer takes the audio and rejects the video
    # with port 0 at the video's place. The video's pinholes, opened for the offer, close.
    invite = with_sdp(INVITE, lambda b: b + '\nm=video 4002 RTP/AVP 31')
    answer = with_sdp(OK, lambda b: b + '\nm=video 0 RTP/AVP 31')
    inside = [out_sip(invite)] + fillers(31)
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(answer))] +
               fillers(31 + 32, inside=False) +
               [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=port, dport=public) / Raw(rtp(i)))
                for i, (port, public) in enumerate(((6000, PUBLIC_RTP), (6002, PUBLIC_RTP + 2)))])
    run = run_pcap(BASE, [inside, outside])
    sent = [r['text'] for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    assert len(sent) == 1 and f'm=video {PUBLIC_RTP + 2} RTP/AVP 31' in sent[0]  # offered: both opened
    delivered = [(r['ip.dst'], r['udp.dstport']) for r in payloads(run.outputs[0]) if r['udp.srcport'] in ('6000', '6002')]
    assert delivered == [('10.0.1.2', '4000')]  # the video's pinhole went with the answer
    assert run.counter('pinholes_opened') == 4
    assert run.counter('drop_local_unhandled') == 1


def test_media_from_another_address_than_the_signalling_peer_reaches_the_phone():
    # A media server (198.51.100.3) sends the far side's RTP; the pinhole takes media from anywhere.
    inside = [out_sip(INVITE)] + fillers(31)
    outside = [from_outside(IP(src='198.51.100.3', dst='198.51.100.1') / UDP(sport=16000, dport=PUBLIC_RTP) / Raw(rtp(1)))]
    run = run_pcap(BASE, [inside, outside])
    delivered = [(r['ip.src'], r['ip.dst'], r['udp.dstport']) for r in payloads(run.outputs[0]) if r['udp.srcport'] == '16000']
    assert delivered == [('198.51.100.3', '10.0.1.2', '4000')]


def contact_run(profile_sip):
    # The phone sends from port 5062 but names 5060 in its Contact (a second socket, as many phones do).
    invite = INVITE.replace(b'Via: SIP/2.0/UDP 10.0.1.2:5060', b'Via: SIP/2.0/UDP 10.0.1.2:5062')
    bye = sip("""BYE sip:alice@198.51.100.1:5060 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bKb1
To: Alice <sip:alice@198.51.100.1>;tag=1928301774
From: Bob <sip:bob@198.51.100.2>;tag=a6c85cf
Call-ID: a84b4c76e66710@198.51.100.1
CSeq: 7 BYE""")
    config = BASE + (f'voip:\n  profile:\n    default: {{sip: {{{profile_sip}}}}}\n' if profile_sip else '')
    inside = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=5062, dport=5060) / Raw(invite))] + fillers(31)
    outside = [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(bye))]
    run = run_pcap(config, [inside, outside])
    sent = [r['text'] for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    got = [r for r in payloads(run.outputs[0], 'udp.port == 5060') if r['text'].startswith('BYE')]
    return run, sent, got


def test_open_contact_pinhole_lets_requests_reach_a_contact_on_another_port():
    run, sent, got = contact_run('')
    assert 'Contact: <sip:alice@198.51.100.1:5060>\r\n' in sent[0]
    assert 'Via: SIP/2.0/UDP 198.51.100.1:5062;' in sent[0]
    assert len(got) == 1 and (got[0]['ip.dst'], got[0]['udp.dstport']) == ('10.0.1.2', '5060')
    assert got[0]['text'].startswith('BYE sip:alice@10.0.1.2:5060 SIP/2.0\r\n')
    assert run.counter('contact_pinholes_opened') == 1
    # The call ended with the BYE: its contact pinhole went with it.
    assert run.counter('sip_calls_ended') == 1
    run, sent, got = contact_run('status: enable, open-contact-pinhole: disable')
    assert got == [] and run.counter('contact_pinholes_opened') == 0


def test_a_refused_reinvite_keeps_the_answered_calls_media():
    refused = sip("""SIP/2.0 491 Request Pending
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKINVITE2;rport=5060;received=198.51.100.1
To: Bob <sip:bob@198.51.100.2>;tag=a6c85cf
From: Alice <sip:alice@198.51.100.1>;tag=1928301774
Call-ID: a84b4c76e66710@198.51.100.1
CSeq: 2 INVITE""")
    inside = [out_sip(INVITE)] + fillers(31) + [out_sip(in_dialog('INVITE', 2, 'media', 4000))] + fillers(31)
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(OK))] +
               fillers(31 + 32, inside=False) +
               [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / Raw(refused)),
                from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=6000, dport=PUBLIC_RTP) / Raw(rtp(3)))])
    run = run_pcap(BASE, [inside, outside])
    delivered = [(r['ip.dst'], r['udp.dstport']) for r in payloads(run.outputs[0]) if r['udp.srcport'] == '6000']
    assert delivered == [('10.0.1.2', '4000')]
    assert run.counter('sip_calls_ended') == 0


def test_the_profiles_nat_port_range_is_where_media_ports_come_from():
    config = BASE + 'voip:\n  profile:\n    default: {sip: {status: enable, nat-port-range: "20001-20100"}}\n'
    run = run_pcap(config, [[out_sip(INVITE)], None])
    sent = [r['text'] for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    assert len(sent) == 1 and 'm=audio 20002 RTP/AVP 0\r\n' in sent[0]  # the first even port of the range


def test_a_fragmented_invite_is_reassembled_translated_and_refragmented():
    from scapy.layers.inet import fragment
    # A 3000-byte INVITE (long SDP, as with many codecs and ICE candidates) arrives in fragments.
    padding = ''.join(f'a=x-pad{i}:' + 'p' * 60 + '\n' for i in range(40))
    big = INVITE.replace(b'a=rtpmap:0 PCMU/8000\r\n', (('a=rtpmap:0 PCMU/8000\n' + padding).replace('\n', '\r\n')).encode())
    big = big.replace(b'Content-Length: ' + str(len(INVITE.split(b'\r\n\r\n', 1)[1])).encode(),
                      b'Content-Length: ' + str(len(big.split(b'\r\n\r\n', 1)[1])).encode())
    assert len(big) > 2800
    packet = IP(src='10.0.1.2', dst='198.51.100.2', id=77) / UDP(sport=5060, dport=5060) / Raw(big)
    frags = [from_inside(f) for f in fragment(packet, fragsize=1400)]
    run = run_pcap(BASE, [frags, None])
    assert run.counter('reassembled') == 1 and run.counter('sip_rewritten') == 1
    assert run.counter('sip_grown_to_chain') == 1  # the reassembled chain's translation left in a new chain
    sent = payloads(run.outputs[1], 'udp.port == 5060')  # tshark reassembles what left
    assert len(sent) == 1 and sent[0]['udp.checksum.status'] == '1'
    text = sent[0]['text']
    assert '10.0.1.2' not in text and f'm=audio {PUBLIC_RTP} RTP/AVP 0\r\n' in text
    body = text.split('\r\n\r\n', 1)[1]
    assert f'Content-Length: {len(body)}\r\n' in text
    assert tshark.count(run.outputs[1], 'ip.flags.mf == 1') >= 1  # it left in fragments again


REMOTE_INVITE = sip("""INVITE sip:pbx@198.51.100.10 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.11:5060;branch=z9hG4bKh1;rport
To: <sip:pbx@198.51.100.10>
From: <sip:remote@192.168.1.11>;tag=h9
Call-ID: hnt-1@192.168.1.11
CSeq: 1 INVITE
Contact: <sip:remote@192.168.1.11:5060>
Content-Type: application/sdp""", "v=0\no=remote 1 1 IN IP4 192.168.1.11\ns=-\nc=IN IP4 192.168.1.11\nt=0 0\nm=audio 7000 RTP/AVP 0")
PBX_ANSWER = sip("""SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.2:40000;branch=z9hG4bKh1;rport
To: <sip:pbx@10.0.1.2>;tag=p1
From: <sip:remote@198.51.100.2>;tag=h9
Call-ID: hnt-1@198.51.100.2
CSeq: 1 INVITE
Contact: <sip:pbx@10.0.1.2:5060>
Content-Type: application/sdp""", "v=0\no=pbx 1 1 IN IP4 10.0.1.2\ns=-\nc=IN IP4 10.0.1.2\nt=0 0\nm=audio 4000 RTP/AVP 0")


def hnt_run(profile_sip, media_from):
    # A remote phone (192.168.1.11) behind its own NAT (seen as 198.51.100.2:40000) calls the inside PBX.
    config = PBX + f'voip:\n  profile:\n    default: {{sip: {{{profile_sip}}}}}\n'
    outside = ([from_outside(IP(src='198.51.100.2', dst='198.51.100.10') / UDP(sport=40000, dport=5060) / Raw(REMOTE_INVITE))] +
               fillers(31 + 32, inside=False) +
               [from_outside(IP(src=media_from, dst='198.51.100.10') / UDP(sport=7000, dport=PUBLIC_RTP) / Raw(rtp(1)))])
    inside = fillers(32) + [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=5060, dport=40000) / Raw(PBX_ANSWER))]
    run = run_pcap(config, [inside, outside])
    got = [r['text'] for r in payloads(run.outputs[0], 'udp.port == 5060') if r['text'].startswith('INVITE')]
    media = [r for r in payloads(run.outputs[0]) if r['udp.srcport'] == '7000']
    run.answer = next(r['text'] for r in payloads(run.outputs[1], 'udp.port == 5060') if r['text'].startswith('SIP/2.0 200'))
    return run, got, media


def test_hosted_nat_traversal_writes_where_a_remote_phone_is_seen_and_can_restrict_its_media():
    run, got, media = hnt_run('status: enable', '198.51.100.2')
    assert len(got) == 1 and '192.168.1.11' in got[0]  # off by default: as written
    assert 'Via: SIP/2.0/UDP 198.51.100.2:40000;branch=z9hG4bKh1;rport\r\n' in run.answer  # both ways
    run, got, media = hnt_run('status: enable, hosted-nat-traversal: enable', '198.51.100.3')
    text = got[0]
    assert '192.168.1.11' not in text
    assert 'Via: SIP/2.0/UDP 198.51.100.2:40000;branch=z9hG4bKh1;rport\r\n' in text
    assert 'Contact: <sip:remote@198.51.100.2:40000>\r\n' in text and 'c=IN IP4 198.51.100.2\r\n' in text
    assert 'm=audio 7000 RTP/AVP 0\r\n' in text  # its media port as written
    # The answer goes back to what the phone wrote: its own Via and Call-ID (RFC 3261 §18.1.2, §12.2.2);
    # the PBX's side leaves as the VIP.
    assert 'Via: SIP/2.0/UDP 192.168.1.11:5060;branch=z9hG4bKh1;rport\r\n' in run.answer
    assert 'Call-ID: hnt-1@192.168.1.11\r\n' in run.answer and 'From: <sip:remote@192.168.1.11>;tag=h9' in run.answer
    assert '10.0.1.2' not in run.answer and 'Contact: <sip:pbx@198.51.100.10:5060>' in run.answer
    assert run.counter('sip_hnt_rewritten') == 2
    assert [(r['ip.dst'], r['udp.dstport']) for r in media] == [('10.0.1.2', '4000')]  # from anywhere, unrestricted
    run, got, media = hnt_run('status: enable, hosted-nat-traversal: enable, hnt-restrict-source-ip: enable', '198.51.100.3')
    # Not through the call's pinhole (the whole-address VIP's policy still forwards it, port unchanged).
    assert [r['udp.dstport'] for r in media if r['udp.dstport'] == '4000'] == []
    assert run.counter('pinhole_peer_refused') == 1
    run, got, media = hnt_run('status: enable, hosted-nat-traversal: enable, hnt-restrict-source-ip: enable', '198.51.100.2')
    assert [(r['ip.dst'], r['udp.dstport']) for r in media] == [('10.0.1.2', '4000')]
