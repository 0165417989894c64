"""The appliance tried as an attacker would, over net_pcap, under the SIP ALG and the session helper: NAT
Slipstreaming over TCP (../shared/corpora/slipstream.md shapes S1-S4, S6, S7, S11 and its positive
control P1), an answer to a REGISTER nobody sent, a BYE from another session, a Contact pinhole after
another host's port, the phones' SIP port as a media port, one phone port in two calls, a flood of
INVITEs from one host, privileged inside ports, an INVITE without Call-ID, a display name the RFC does
not allow. For each attack: nothing reaches the inside host from outside, and the counters say why; for
each good shape: the media flows."""
import re

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from pcap_env import INSIDE_MAC, OUTSIDE_MAC, PORT1_MAC, from_inside, from_outside, sequenced, sip, sip_config
from sipalg_tools import tshark
from sipalg_tools.daemon import run_pcap

INSIDE2_MAC = '02:00:00:00:00:03'  # 10.0.1.3
C_ISN, S_ISN = 7000, 9000


def config(engine, settings='', profile_sip=''):
    text = sip_config(engine, more_arp=f'    3: {{interface: port1, ip: 10.0.1.3, mac: "{INSIDE2_MAC}"}}\n'
                                       f'    4: {{interface: wan1, ip: 198.51.100.3, mac: "{OUTSIDE_MAC}"}}\n')
    if settings:
        text = text.replace('system:\n', 'system:\n  settings: {' + settings + '}\n', 1) if engine == 'alg' else \
            text.replace('kernel-helper-based}', 'kernel-helper-based, ' + settings + '}', 1)
    if profile_sip:
        text += f'voip:\n  profile:\n    default: {{sip: {{{profile_sip}}}}}\n'
    return text


@pytest.fixture(params=['alg', 'helper'])
def engine(request):
    return request.param


def sdp(address='10.0.1.2', port=4000):
    return f"""v=0
o=alice 1 1 IN IP4 {address}
s=-
c=IN IP4 {address}
t=0 0
m=audio {port} RTP/AVP 0"""


def invite(call_id, transport='UDP', contact_port=5060, media_port=4000, sport=5060, address='10.0.1.2',
           to='198.51.100.2', from_name='Alice', body=True):
    return sip(f"""INVITE sip:bob@{to} SIP/2.0
Via: SIP/2.0/{transport} {address}:{sport};branch=z9hG4bK{call_id}
Max-Forwards: 70
To: <sip:bob@{to}>
From: {from_name} <sip:alice@{address}>;tag=a{call_id}
Call-ID: {call_id}@{address}
CSeq: 1 INVITE
Contact: <sip:alice@{address}:{contact_port};transport={transport.lower()}>
Content-Type: application/sdp""", sdp(address, media_port) if body else '')


def answer(call_id, far='198.51.100.2', media_port=6000, sport=5060, cseq='1 INVITE', status='200 OK'):
    return sip(f"""SIP/2.0 {status}
Via: SIP/2.0/UDP 198.51.100.1:{sport};branch=z9hG4bK{call_id}
To: <sip:bob@{far}>;tag=b{call_id}
From: Alice <sip:alice@198.51.100.1>;tag=a{call_id}
Call-ID: {call_id}@198.51.100.1
CSeq: {cseq}
Contact: <sip:bob@{far}>
Content-Type: application/sdp""", sdp(far, media_port))


def udp_in(payload, sport=5060, dport=5060, src='10.0.1.2', dst='198.51.100.2', mac=INSIDE_MAC):
    return (0, Ether(src=mac, dst=PORT1_MAC) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload))


def udp_out(payload, sport=5060, dport=5060, src='198.51.100.2'):
    return (1, from_outside(IP(src=src, dst='198.51.100.1') / UDP(sport=sport, dport=dport) / Raw(payload)))


def rtp(i):
    return b'\x80\x00' + i.to_bytes(2, 'big') + b'\x00' * 8 + b'\xff' * 160


def reached_inside(run, src=None):
    rows = tshark.fields(run.outputs[0], ['ip.src', 'ip.dst', 'udp.dstport', 'tcp.dstport', 'tcp.flags'], 'ip')
    return [r for r in rows if src is None or r['ip.src'] == src]


def probes(dst_ports, src='198.51.100.3'):
    """An outside host knocking: TCP SYNs and UDP datagrams to our public address."""
    out = []
    for p in dst_ports:
        out += [(1, from_outside(IP(src=src, dst='198.51.100.1') / TCP(sport=40000 + p % 1000, dport=p, flags='S', seq=1))),
                (1, from_outside(IP(src=src, dst='198.51.100.1') / UDP(sport=40000 + p % 1000, dport=p) / Raw(b'knock')))]
    return out


# NAT Slipstreaming over TCP: the inside browser's stream to the attacker's server on 5060.
SAMY_REGISTER = ('REGISTER sip:samy.pl;transport=TCP SIP/2.0\r\n'
                 'Via: SIP/2.0/TCP 10.0.1.2:5060;branch=I9hG4bK-d8754z-c2ac7de1b3ce90f7-1---d8754z-;rport;transport=TCP\r\n'
                 'Max-Forwards: 70\r\n'
                 'Contact: <sip:samy@10.0.1.2:1234;rinstance=v40f3f83b335139c;transport=TCP>\r\n'
                 'To: <sip:samy@samy.pl;transport=TCP>\r\n'
                 'From: <sip:samy@samy.pl;transport=TCP>;tag=U7c3d519\r\n'
                 'Call-ID: aaaaaaaaaaaaaa0123456789012345bbbbbbZjQ4M2M.\r\n'
                 'CSeq: 1 REGISTER\r\n'
                 'Expires: 70\r\n'
                 'Content-Length: 0\r\n\r\n').encode()
SMUGGLED_INVITE = invite('slip', transport='TCP', contact_port=22, media_port=444)
HTTP_POST = (b'POST /samy_n?0012 HTTP/1.1\r\nHost: 198.51.100.2:5060\r\nContent-Type: multipart/form-data; '
             b'boundary=----WebKitFormBoundaryabcdefghijklmnop\r\nContent-Length: 2000\r\n\r\n'
             b'------WebKitFormBoundaryabcdefghijklmnop\r\nContent-Disposition: form-data; name="C1"\r\n\r\n' +
             b'^_' * 150 + b'\r\n')
STUN = bytes.fromhex('000300502112a442') + b'0123456789ab' + bytes.fromhex('00060040') + b'u' * 64
SERVER_HTTP = b'HTTP/1.1 200 OK\r\nServer: samy natpin v2\r\nContent-Length: 300\r\nConnection: close\r\n\r\n'
SERVER_OK = (b'SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 10.0.1.2:5060;branch=I9hG4bK-d8754z-c2ac7de1b3ce90f7-1---d8754z-;'
             b'rport;transport=TCP;received=198.51.100.1\r\nFrom: <sip:samy@samy.pl>;tag=U7c3d519\r\n'
             b'To: <sip:samy@samy.pl>;tag=37GkEhwl6\r\nCall-ID: aaaaaaaaaaaaaa0123456789012345bbbbbbZjQ4M2M.\r\n'
             b'CSeq: 1 REGISTER\r\nContact: <sip:samy@10.0.1.2:1234>;expires=3600\r\nContent-Length: 0\r\n\r\n')


def tcp_c2s(flags, seq, payload=b'', sport=45000):
    return (0, from_inside(IP(src='10.0.1.2', dst='198.51.100.2') /
                           TCP(sport=sport, dport=5060, flags=flags, seq=seq, ack=S_ISN + 1, window=65535) / Raw(payload)))


def tcp_s2c(flags, seq, ack, payload=b'', sport=45000):
    return (1, from_outside(IP(src='198.51.100.2', dst='198.51.100.1') /
                            TCP(sport=5060, dport=sport, flags=flags, seq=seq, ack=ack, window=65535) / Raw(payload)))


def stream_of(pieces):
    """Segments for `pieces` sent back to back; a piece (bytes, 'again') repeats the previous range with
    other bytes (a divergent retransmission)."""
    steps, off = [], 0
    for piece in pieces:
        if isinstance(piece, tuple):
            data, _ = piece
            steps.append(tcp_c2s('PA', C_ISN + 1 + off - len(data), data))
            continue
        steps.append(tcp_c2s('PA', C_ISN + 1 + off, piece))
        off += len(piece)
    return steps, off


SHAPES = {
    # S1: the SIP text starts a TCP segment in the middle of an HTTP POST body (the INVITE with a
    # Contact to port 22 and media to 444, and Samy Kamkar's REGISTER).
    'S1-http-invite': [HTTP_POST, SMUGGLED_INVITE],
    'S1-http-register': [HTTP_POST, SAMY_REGISTER],
    # S2: the REGISTER right after a line end in the middle of a segment.
    'S2-mid-segment': [HTTP_POST + SAMY_REGISTER],
    # S4: a STUN header first.
    'S4-stun-prefix': [STUN, SAMY_REGISTER],
    # S6: SIP that loses its framing (a Content-Length that is no number), then a REGISTER at a segment start.
    'S6-framing-error': [b'OPTIONS sip:a@198.51.100.2 SIP/2.0\r\nContent-Length: 5x\r\n\r\nhello', SAMY_REGISTER],
    # S7: a retransmission whose bytes differ: the copy the receiver keeps is harmless, the other a REGISTER.
    'S7-divergent': [b'x' * len(SAMY_REGISTER), (SAMY_REGISTER, 'again')],
}


@pytest.mark.parametrize('shape', list(SHAPES))
def test_nat_slipstreaming_over_tcp_opens_nothing_and_rewrites_nothing(engine, shape):
    data_steps, length = stream_of(SHAPES[shape])
    steps = ([tcp_c2s('S', C_ISN), tcp_s2c('SA', S_ISN, C_ISN + 1), tcp_c2s('A', C_ISN + 1)] + data_steps +
             # S3: the server's answer, an HTTP header and then, in a segment of its own, a SIP 200 OK.
             [tcp_s2c('PA', S_ISN + 1, C_ISN + 1 + length, SERVER_HTTP),
              tcp_s2c('PA', S_ISN + 1 + len(SERVER_HTTP), C_ISN + 1 + length, SERVER_OK)] +
             probes([22, 444, 445, 1234] + list(range(1024, 1040))))
    run = run_pcap(config(engine), sequenced(steps))
    assert run.returncode == 0, run.stderr
    # Nothing from the attacker's other host reaches inside, and nothing new from the server.
    assert reached_inside(run, '198.51.100.3') == []
    for c in ('pinholes_opened', 'contact_pinholes_opened', 'registrations_opened', 'pinhole_sessions', 'sip_rewritten'):
        assert run.counter(c) == 0, c
    # The bytes leave as they came (no inside address rewritten to tell the attacker it worked), at the
    # sequence numbers they came with.
    out = tshark.fields(run.outputs[1], ['tcp.seq_raw', 'tcp.payload'], 'tcp.len > 0')
    sent = b''.join(bytes.fromhex(r['tcp.payload']) for r in out)
    assert b'198.51.100.1' not in sent and (b'10.0.1.2' in sent or shape == 'S7-divergent')
    assert int(out[0]['tcp.seq_raw']) == C_ISN + 1
    ended = {k: v for k, v in run.counters.items() if k.startswith('sip_tcp_end_') and v}
    expected = {'S6-framing-error': 'sip_tcp_end_bad_content_length', 'S7-divergent': 'sip_tcp_end_divergent'}
    assert ended.get(expected.get(shape, 'sip_tcp_end_not_sip'), 0) >= 1, ended


def test_positive_control_a_register_that_starts_its_connection_is_translated(engine):
    # P1: the same REGISTER as the first bytes of a fresh connection, and the registrar's 200 OK.
    ok = SERVER_OK.replace(b'10.0.1.2', b'198.51.100.1')
    steps = ([tcp_c2s('S', C_ISN), tcp_s2c('SA', S_ISN, C_ISN + 1), tcp_c2s('A', C_ISN + 1),
              tcp_c2s('PA', C_ISN + 1, SAMY_REGISTER)] +
             [tcp_s2c('PA', S_ISN + 1, C_ISN + 1 + len(SAMY_REGISTER) + 4 * 2, ok)])
    run = run_pcap(config(engine), sequenced(steps))
    out = tshark.fields(run.outputs[1], ['tcp.payload'], 'tcp.len > 0')
    sent = bytes.fromhex(out[0]['tcp.payload'])
    assert b'Contact: <sip:samy@198.51.100.1:1234;' in sent and b'10.0.1.2' not in sent
    assert run.counter('registrations_opened') == 1 and run.counter('sip_responses_unmatched') == 0


def test_an_answer_to_a_register_nobody_sent_opens_no_registration(engine):
    # UDP: the inside host sends a STUN request to 5060 (the attacker's server), which answers with a 200
    # OK to a REGISTER; then the server knocks on the phone's public port from another port of its own.
    ok = SERVER_OK.replace(b'TCP', b'UDP').replace(b'10.0.1.2', b'198.51.100.1')
    steps = ([udp_in(STUN), udp_out(ok)] + [udp_out(b'knock', sport=9999), udp_out(b'knock', sport=9999, src='198.51.100.3')])
    run = run_pcap(config(engine), sequenced(steps))
    assert run.counter('registrations_opened') == 0 and run.counter('sip_responses_unmatched') == 1
    knocks = tshark.fields(run.outputs[0], ['udp.srcport'], 'udp.srcport == 9999')
    assert knocks == []
    # The positive control: the same after a real REGISTER lets the registrar in from another port.
    register = SAMY_REGISTER.replace(b'TCP', b'UDP')
    steps = [udp_in(register), udp_out(ok), udp_out(b'knock', sport=9999)]
    run = run_pcap(config(engine), sequenced(steps))
    assert run.counter('registrations_opened') == 1
    assert len(tshark.fields(run.outputs[0], ['udp.srcport'], 'udp.srcport == 9999')) == 1


def test_a_bye_on_another_session_ends_no_call(engine):
    # Phone A calls B; A also talks to C. C sends a BYE with A's Call-ID and tags on its own session.
    bye = sip("""BYE sip:alice@198.51.100.1 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.3:5060;branch=z9hG4bKevil
To: Alice <sip:alice@198.51.100.1>;tag=acall1
From: <sip:bob@198.51.100.2>;tag=bcall1
Call-ID: call1@198.51.100.1
CSeq: 9 BYE""")
    options = sip("""OPTIONS sip:carol@198.51.100.3 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bKopt
To: <sip:carol@198.51.100.3>
From: <sip:alice@10.0.1.2>;tag=o1
Call-ID: opt@10.0.1.2
CSeq: 1 OPTIONS""")
    steps = [udp_in(invite('call1')), udp_out(answer('call1')), udp_in(options, dst='198.51.100.3'),
             udp_out(bye, src='198.51.100.3'), udp_out(rtp(1), sport=6000, dport=1024)]
    run = run_pcap(config(engine), sequenced(steps))
    assert run.counter('sip_calls_ended') == 0
    media = tshark.fields(run.outputs[0], ['udp.dstport'], 'udp.srcport == 6000')
    assert media == [{'udp.dstport': '4000'}]


def test_a_contact_pinhole_never_takes_another_hosts_port(engine):
    # B registers from port 5062 (its public port is 5062); A's INVITE names port 5062 in its Contact.
    register_b = sip("""REGISTER sip:198.51.100.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.3:5062;branch=z9hG4bKregb
To: <sip:b@198.51.100.2>
From: <sip:b@198.51.100.2>;tag=rb
Call-ID: regb@10.0.1.3
CSeq: 1 REGISTER
Contact: <sip:b@10.0.1.3:5062>
Expires: 300""")
    ok_b = sip("""SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.1:5062;branch=z9hG4bKregb
To: <sip:b@198.51.100.2>;tag=s
From: <sip:b@198.51.100.2>;tag=rb
Call-ID: regb@198.51.100.1
CSeq: 1 REGISTER
Contact: <sip:b@198.51.100.1:5062>;expires=300""")
    steps = [udp_in(register_b, sport=5062, src='10.0.1.3', mac=INSIDE2_MAC),
             udp_in(invite('c1', contact_port=5062, sport=5064), sport=5064),
             udp_out(ok_b, dport=5062)]
    run = run_pcap(config(engine), sequenced(steps))
    sent = [bytes.fromhex(r['udp.payload']) for r in tshark.fields(run.outputs[1], ['udp.payload'], 'udp.srcport == 5064')]
    contact = re.search(rb'Contact: <sip:alice@198\.51\.100\.1:(\d+);', sent[0]).group(1)
    assert contact != b'5062' and run.counter('contact_pinholes_opened') == 1
    assert run.counter('registrations_opened') == 1


def test_the_phones_sip_port_is_never_given_out_as_a_media_port(engine):
    # The phone's SIP port is 1024, the first port a media pinhole would take: its media goes elsewhere.
    steps = [udp_in(invite('p1', sport=1024), sport=1024)]
    run = run_pcap(config(engine), sequenced(steps))
    sent = bytes.fromhex(tshark.fields(run.outputs[1], ['udp.payload'], 'udp.srcport == 1024')[0]['udp.payload'])
    port = int(re.search(rb'm=audio (\d+) ', sent).group(1))
    assert port not in (1024, 1025) and port % 2 == 0


def test_one_phone_port_in_two_calls_gets_the_media_of_both_and_sends_each_its_own_way(engine):
    steps = [udp_in(invite('two1')), udp_in(invite('two2', to='198.51.100.3'), dst='198.51.100.3'),
             udp_out(answer('two1', media_port=6000)),
             udp_out(answer('two2', far='198.51.100.3', media_port=7000), src='198.51.100.3')]
    run0 = run_pcap(config(engine), sequenced(steps))
    ports = {}
    for r in tshark.fields(run0.outputs[1], ['ip.dst', 'udp.payload'], 'udp.dstport == 5060'):
        ports[r['ip.dst']] = int(re.search(rb'm=audio (\d+) ', bytes.fromhex(r['udp.payload'])).group(1))
    assert ports['198.51.100.2'] != ports['198.51.100.3']
    steps += [udp_out(rtp(1), sport=6000, dport=ports['198.51.100.2']),
              udp_out(rtp(2), sport=7000, dport=ports['198.51.100.3'], src='198.51.100.3'),
              udp_in(rtp(3), sport=4000, dport=6000), udp_in(rtp(4), sport=4000, dport=7000, dst='198.51.100.3')]
    run = run_pcap(config(engine), sequenced(steps))
    inbound = tshark.fields(run.outputs[0], ['ip.src', 'udp.dstport'], 'udp.srcport == 6000 or udp.srcport == 7000')
    assert inbound == [{'ip.src': '198.51.100.2', 'udp.dstport': '4000'}, {'ip.src': '198.51.100.3', 'udp.dstport': '4000'}]
    outbound = tshark.fields(run.outputs[1], ['ip.dst', 'udp.srcport'], 'udp.dstport == 6000 or udp.dstport == 7000')
    assert outbound == [{'ip.dst': '198.51.100.2', 'udp.srcport': str(ports['198.51.100.2'])},
                        {'ip.dst': '198.51.100.3', 'udp.srcport': str(ports['198.51.100.3'])}]


def test_a_flood_of_invites_from_one_host_takes_only_its_allowance(engine):
    flood = [udp_in(invite(f'flood{i}', media_port=4000 + 2 * i)) for i in range(10)]
    other = [udp_in(invite('other', address='10.0.1.3'), src='10.0.1.3', mac=INSIDE2_MAC),
             udp_in(b'dns?', sport=3333, dport=53, src='10.0.1.3', mac=INSIDE2_MAC)]
    run = run_pcap(config(engine, 'sip-pinholes-per-address: 8'), sequenced(flood + other))
    assert run.counter('pinholes_opened') == 8 + 2
    assert run.counter('pinholes_address_limit') >= 6
    assert run.counter('media_ports_exhausted') == 6
    # The other host's call got its media ports, and its DNS query left.
    assert len(tshark.fields(run.outputs[1], ['udp.srcport'], 'udp.dstport == 53')) == 1
    sent = [bytes.fromhex(r['udp.payload']) for r in tshark.fields(run.outputs[1], ['udp.payload'], 'udp.dstport == 5060')]
    assert b'm=audio 4000 ' not in sent[-1]


def test_media_ports_keep_out_of_the_share_reserved_for_ordinary_sessions():
    # One worker: its slice is 1024-65535; with 90% reserved, pinholes end below 1024 + 6452 = 7476.
    run = run_pcap(config('alg', 'sip-nat-port-reserve: 90', 'nat-port-range: 7000-9000'), sequenced([udp_in(invite('r1'))]))
    sent = bytes.fromhex(tshark.fields(run.outputs[1], ['udp.payload'], 'udp.dstport == 5060')[0]['udp.payload'])
    assert int(re.search(rb'm=audio (\d+) ', sent).group(1)) == 7000
    run = run_pcap(config('alg', 'sip-nat-port-reserve: 90', 'nat-port-range: 7476-9000'), sequenced([udp_in(invite('r2'))]))
    assert run.counter('pinholes_opened') == 0 and run.counter('media_ports_exhausted') == 1


def test_an_unanswered_invite_closes_its_pinholes_when_it_expires():
    run = run_pcap(config('alg', profile_sip='provisional-invite-expiry-time: 10'), sequenced([udp_in(invite('late'))]),
                   extra=['--session-time-scale', '100', '--drain-idle-ms', '1500'])
    assert run.counter('pinholes_opened') == 2
    assert run.counter('sip_invites_expired') == 1 and run.counter('sip_calls_ended') == 1


def test_max_dialogs_refuses_calls_beyond_it():
    steps = [udp_in(invite(f'md{i}', media_port=4000 + 2 * i)) for i in range(3)]
    run = run_pcap(config('alg', profile_sip='max-dialogs: 2'), sequenced(steps))
    assert run.counter('sip_calls') == 2 and run.counter('drop_sip_dialogs_over_limit') == 1
    assert len(tshark.fields(run.outputs[1], ['udp.payload'], 'udp.dstport == 5060')) == 2


def test_privileged_inside_ports_get_no_pinhole_unless_the_profile_allows_it(engine):
    steps = [udp_in(invite('priv', contact_port=22, media_port=444))] + probes(list(range(1024, 1032)))
    run = run_pcap(config(engine), sequenced(steps))
    assert run.counter('pinholes_opened') == 0 and run.counter('contact_pinholes_opened') == 0
    assert run.counter('pinholes_privileged_refused') >= 2
    assert reached_inside(run, '198.51.100.3') == []
    if engine == 'alg':
        run = run_pcap(config(engine, profile_sip='open-privileged-pinhole: enable'), sequenced(steps[:1]))
        assert run.counter('pinholes_opened') == 2 and run.counter('contact_pinholes_opened') == 1


def test_an_invite_without_a_call_id_passes_without_harm(engine):
    no_id = re.sub(rb'Call-ID: [^\r]*\r\n', b'', invite('x'))
    empty_id = re.sub(rb'Call-ID: [^\r]*\r\n', b'Call-ID: \r\n', invite('y'))
    run = run_pcap(config(engine), sequenced([udp_in(no_id), udp_in(empty_id, sport=5070)]))
    assert run.returncode == 0
    assert len(tshark.fields(run.outputs[1], ['udp.payload'], 'udp.dstport == 5060')) == 2


def test_a_display_name_real_phones_write_is_translated_and_a_leftover_address_counted(engine):
    utf8 = invite('u1', from_name='J\u00fcrgen')
    leftover = invite('u2', sport=5070).replace(b'Max-Forwards: 70\r\n', b'Max-Forwards: 70\r\nX-Origin: 10.0.1.2\r\n')
    run = run_pcap(config(engine), sequenced([udp_in(utf8), udp_in(leftover, sport=5070)]))
    sent = [bytes.fromhex(r['udp.payload']) for r in tshark.fields(run.outputs[1], ['udp.payload'], 'udp.dstport == 5060')]
    assert 'From: J\u00fcrgen <sip:alice@198.51.100.1>'.encode() in sent[0] and b'10.0.1.2' not in sent[0]
    assert run.counter('sip_inside_address_left') == 1
