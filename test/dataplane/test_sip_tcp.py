"""SIP over TCP as a byte stream through sipalgd (sip/tcp_stream.hpp, dataplane/sip.cpp), over net_pcap,
under the SIP ALG and the session helper: a message split at every byte position, several messages in
one segment, one message over many small segments, segments out of order, retransmitted, lost after the
appliance; the segments that leave carry exactly the translated stream, with sequence and
acknowledgement numbers the far end can use, checksums right, SACK blocks mapped and the MSS kept.
Read back with tshark."""
import re

import pytest
from scapy.layers.inet import IP, TCP
from scapy.packet import Raw

from pcap_env import from_inside, from_outside, sequenced, sip_config
from sipalg_tools import tshark
from sipalg_tools.daemon import run_pcap

C_ISN, S_ISN = 1000, 5000


def config(engine):
    return sip_config(engine)


def message(method, n, body='', address='10.0.1.2', sport=5060):
    head = (f'{method} sip:bob@198.51.100.2 SIP/2.0\r\n'
            f'Via: SIP/2.0/TCP {address}:{sport};branch=z9hG4bK{n}x\r\n'
            f'From: Alice <sip:alice@{address}>;tag={n}\r\n'
            f'To: <sip:bob@198.51.100.2>\r\n'
            f'Call-ID: call{n}@{address}\r\n'
            f'CSeq: {n} {method}\r\n'
            f'Contact: <sip:alice@{address}:{sport};transport=tcp>\r\n')
    if body:
        head += 'Content-Type: application/sdp\r\n'
    return (head + f'Content-Length: {len(body)}\r\n\r\n' + body).encode()


def sdp(port=4000, address='10.0.1.2'):
    return (f'v=0\r\no=alice 1 1 IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n'
            f'm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n')


def c2s(sport, flags, seq, ack=S_ISN + 1, payload=b'', options=()):
    return (0, from_inside(IP(src='10.0.1.2', dst='198.51.100.2') /
                           TCP(sport=sport, dport=5060, flags=flags, seq=seq, ack=ack, window=65535,
                               options=list(options)) / Raw(payload)))


def s2c(dport, flags, seq, ack, payload=b'', options=(), window=65535):
    return (1, from_outside(IP(src='198.51.100.2', dst='198.51.100.1') /
                            TCP(sport=5060, dport=dport, flags=flags, seq=seq, ack=ack, window=window,
                                options=list(options)) / Raw(payload)))


def handshake(sport, mss=1460):
    return [c2s(sport, 'S', C_ISN, 0, options=[('MSS', mss)]),
            s2c(sport, 'SA', S_ISN, C_ISN + 1, options=[('MSS', mss)]),
            c2s(sport, 'A', C_ISN + 1)]


def rows(pcap, flt='tcp'):
    return tshark.fields(pcap, ['tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.flags',
                                'tcp.checksum.status', 'ip.checksum.status', 'tcp.payload', 'tcp.options.sack_le',
                                'tcp.options.sack_re'], flt)


def stream(rs, isn):
    """The bytes the receiver reads: segments put in order by sequence number from isn + 1 (repeats and
    overlaps must agree); checks every checksum on the way."""
    data = {}
    for r in rs:
        assert r['tcp.checksum.status'] == '1' and r['ip.checksum.status'] == '1', r
        if r['tcp.len'] not in ('', '0'):
            data.setdefault(int(r['tcp.seq_raw']), []).append(bytes.fromhex(r['tcp.payload']))
    out = b''
    at = isn + 1
    while True:
        ahead = [(s, p) for s, ps in data.items() for p in ps if s <= at < s + len(p)]
        if not ahead:
            break
        for s, p in ahead:
            assert p[at - s:at - s + 1] == ahead[0][1][at - ahead[0][0]:at - ahead[0][0] + 1]
        s, p = max(ahead, key=lambda x: x[0] + len(x[1]))
        out += p[at - s:]
        at = s + len(p)
    return out


def no_media_ports(b):
    return re.sub(rb'm=audio \d+', b'm=audio N', b)


@pytest.fixture(params=['alg', 'helper'])
def engine(request):
    return request.param


def test_a_call_over_tcp_is_translated_and_sequence_numbers_follow_the_length_changes(engine):
    sport = 40000
    invite = message('INVITE', 1, sdp())
    # Each of Via, From, Call-ID, Contact, o= and c= gains 4 bytes (10.0.1.2 -> 198.51.100.1).
    grow = 6 * 4
    ok = (b'SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 198.51.100.1:5060;branch=z9hG4bK1x;received=198.51.100.1\r\n'
          b'From: Alice <sip:alice@198.51.100.1>;tag=1\r\nTo: <sip:bob@198.51.100.2>;tag=b\r\n'
          b'Call-ID: call1@198.51.100.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n')
    shrink = 4 * 4  # sent-by, received, From, Call-ID lose 4 bytes each going in
    L, M = len(invite), len(ok)
    steps = handshake(sport) + [
        c2s(sport, 'PA', C_ISN + 1, S_ISN + 1, invite),
        s2c(sport, 'A', S_ISN + 1, C_ISN + 1 + L + grow),
        s2c(sport, 'PA', S_ISN + 1, C_ISN + 1 + L + grow, ok),
        c2s(sport, 'A', C_ISN + 1 + L, S_ISN + 1 + M - shrink)]
    run = run_pcap(config(engine), sequenced(steps))
    out, into = rows(run.outputs[1]), rows(run.outputs[0])
    sent = [r for r in out if r['tcp.len'] not in ('', '0')]
    assert len(sent) == 1
    text = bytes.fromhex(sent[0]['tcp.payload']).decode()
    assert text.startswith('INVITE') and '10.0.1.2' not in text and 'm=audio 1024 ' in text
    assert (sent[0]['tcp.seq_raw'], int(sent[0]['tcp.len'])) == (str(C_ISN + 1), L + grow)
    # The server's acknowledgement of the grown INVITE reaches the phone in the phone's own numbering.
    acks = [r for r in into if r['tcp.flags'] != '0x0012']
    assert [r['tcp.ack_raw'] for r in acks] == [str(C_ISN + 1 + L)] * 2
    answer = next(r for r in acks if r['tcp.len'] not in ('', '0'))
    got = bytes.fromhex(answer['tcp.payload']).decode()
    assert 'Via: SIP/2.0/TCP 10.0.1.2:5060;branch=z9hG4bK1x;received=10.0.1.2\r\n' in got
    assert (int(answer['tcp.len']), answer['tcp.seq_raw']) == (M - shrink, str(S_ISN + 1))
    # The phone's last ACK leaves in the server's numbering both ways.
    last = out[-1]
    assert (last['tcp.seq_raw'], last['tcp.ack_raw']) == (str(C_ISN + 1 + L + grow), str(S_ISN + 1 + M))
    assert stream(out, C_ISN) == text.encode() and stream(into, S_ISN) == got.encode()
    assert run.counter('sip_rewritten') == 2 and run.counter('sip_tcp_connections') == 1


def test_a_message_split_at_every_byte_position_is_translated_once_whole(engine):
    invite = message('INVITE', 7, sdp())
    # Connection k sends the INVITE in two segments cut after byte k; connection 0 sends it whole.
    steps = []
    for k in range(len(invite)):
        sport = 20000 + k
        steps += [c2s(sport, 'S', C_ISN, 0)]
        if k == 0:
            steps += [c2s(sport, 'PA', C_ISN + 1, payload=invite)]
        else:
            steps += [c2s(sport, 'PA', C_ISN + 1, payload=invite[:k]), c2s(sport, 'PA', C_ISN + 1 + k, payload=invite[k:])]
    run = run_pcap(config(engine), sequenced(steps), timeout=180)
    out = rows(run.outputs[1], 'tcp.len > 0')
    by_port = {}
    for r in out:
        by_port.setdefault(int(r['tcp.srcport']), []).append(r)
    assert len(by_port) == len(invite)
    whole = stream(by_port[20000], C_ISN)
    assert whole.startswith(b'INVITE') and b'10.0.1.2' not in whole
    for port, rs in by_port.items():
        assert no_media_ports(stream(rs, C_ISN)) == no_media_ports(whole), port
    assert run.counter('sip_messages') == len(invite)
    assert run.counter('sip_tcp_end_not_sip') == 0


def test_several_messages_in_a_segment_and_one_message_over_many_small_segments(engine):
    msgs = [message('INVITE', 1, sdp()), b'\r\n\r\n', message('ACK', 2), message('BYE', 3)]
    whole = b''.join(msgs)
    steps = handshake(30000) + [c2s(30000, 'PA', C_ISN + 1, payload=whole)]
    for i, mss in enumerate((536, 200)):
        sport = 30001 + i
        steps += handshake(sport, mss)
        for off in range(0, len(whole), mss):
            steps += [c2s(sport, 'PA', C_ISN + 1 + off, payload=whole[off:off + mss])]
    run = run_pcap(config(engine), sequenced(steps))
    out = rows(run.outputs[1], 'tcp.srcport >= 30000')
    streams = {p: stream([r for r in out if r['tcp.srcport'] == str(p)], C_ISN) for p in (30000, 30001, 30002)}
    first = streams[30000]
    assert b'10.0.1.2' not in first and first.count(b'SIP/2.0\r\n') == 3 and b'PCMU/8000\r\n\r\n\r\nACK' in first
    for p, mss in ((30001, 536), (30002, 200)):
        assert no_media_ports(streams[p]) == no_media_ports(first)
        # What leaves keeps to the receiver's MSS.
        assert max(int(r['tcp.len'] or 0) for r in out if r['tcp.srcport'] == str(p)) <= mss
    assert run.counter('sip_messages') == 9


def test_segments_out_of_order_are_held_until_the_stream_is_whole(engine):
    msgs = [message('INVITE', 1, sdp()), message('BYE', 2)]
    whole = b''.join(msgs)
    n = len(whole)
    cuts = [0, n // 3, 2 * n // 3, n]
    pieces = [(cuts[i], whole[cuts[i]:cuts[i + 1]]) for i in range(3)]
    steps = handshake(31000) + [c2s(31000, 'PA', C_ISN + 1 + off, payload=p) for off, p in reversed(pieces)]
    run = run_pcap(config(engine), sequenced(steps))
    out = rows(run.outputs[1], 'tcp.len > 0')
    got = stream(out, C_ISN)
    assert got.startswith(b'INVITE') and b'BYE sip:' in got and b'10.0.1.2' not in got
    assert run.counter('sip_messages') == 2 and run.counter('sip_tcp_segments_held') >= 2


def test_a_retransmission_is_sent_again_as_translated_and_never_translated_twice(engine):
    invite = message('INVITE', 1, sdp())
    sport = 32000
    # The INVITE, then (its output lost on the way, as far as the phone can tell) the same bytes again;
    # the server acknowledges only the second copy, with a SACK of nothing the phone sent.
    steps = handshake(sport) + [
        c2s(sport, 'PA', C_ISN + 1, payload=invite),
        c2s(sport, 'PA', C_ISN + 1, payload=invite)]
    run = run_pcap(config(engine), sequenced(steps))
    out = rows(run.outputs[1], 'tcp.len > 0')
    assert len(out) == 2 and out[0]['tcp.payload'] == out[1]['tcp.payload'] and out[0]['tcp.seq_raw'] == out[1]['tcp.seq_raw']
    assert run.counter('sip_messages') == 1 and run.counter('sip_tcp_retransmitted') == 1


def test_acknowledgements_and_sack_blocks_never_claim_more_than_the_far_end_has(engine):
    msgs = [message('INVITE', 1, sdp()), message('BYE', 2)]
    whole = b''.join(msgs)
    sport = 33000
    steps = handshake(sport) + [c2s(sport, 'PA', C_ISN + 1, payload=whole)]
    run0 = run_pcap(config(engine), sequenced(steps))
    out = rows(run0.outputs[1], 'tcp.len > 0')
    first_len = len(stream(out, C_ISN).split(b'BYE sip:')[0])
    total = len(stream(out, C_ISN))
    out_second = C_ISN + 1 + first_len
    # The server got only the second message (the first was lost): it acknowledges nothing and SACKs it;
    # then it SACKs a block inside the first message; then it has it all.
    steps += [s2c(sport, 'A', S_ISN + 1, C_ISN + 1, options=[('SAck', (out_second, C_ISN + 1 + total))]),
              s2c(sport, 'A', S_ISN + 1, C_ISN + 1, options=[('SAck', (C_ISN + 10, C_ISN + 20))]),
              s2c(sport, 'A', S_ISN + 1, C_ISN + 1 + total)]
    run = run_pcap(config(engine), sequenced(steps))
    into = rows(run.outputs[0], 'tcp.srcport == 5060 and tcp.flags == 0x010')
    assert [r['tcp.ack_raw'] for r in into] == [str(C_ISN + 1)] * 2 + [str(C_ISN + 1 + len(whole))]
    # The block of the whole second message, in the phone's numbering (tshark gives SACK edges relative
    # to the phone's first sequence number); the block inside the first: none.
    assert (into[0]['tcp.options.sack_le'], into[0]['tcp.options.sack_re']) == (str(1 + len(msgs[0])), str(1 + len(whole)))
    assert into[1]['tcp.options.sack_le'] == ''


def test_a_sender_waiting_for_its_held_bytes_is_acknowledged_by_the_appliance(engine):
    invite = message('INVITE', 1, sdp() + 'a=x-pad:' + 'p' * 400 + '\r\n')
    sport = 34000
    half = 300
    # The first 300 bytes, then (the sender's timer) the same 300 again: the appliance acknowledges them
    # to the phone, which sends the rest.
    steps = handshake(sport) + [
        c2s(sport, 'PA', C_ISN + 1, payload=invite[:half]),
        c2s(sport, 'PA', C_ISN + 1, payload=invite[:half]),
        c2s(sport, 'PA', C_ISN + 1 + half, payload=invite[half:])]
    run = run_pcap(config(engine), sequenced(steps))
    back = rows(run.outputs[0], 'tcp.srcport == 5060 and tcp.flags == 0x010')
    assert [r['tcp.ack_raw'] for r in back] == [str(C_ISN + 1 + half)]
    assert back[0]['tcp.seq_raw'] == str(S_ISN + 1)
    out = rows(run.outputs[1], 'tcp.len > 0')
    got = stream(out, C_ISN)
    assert got.startswith(b'INVITE') and b'10.0.1.2' not in got and got.endswith(b'p' * 400 + b'\r\n')
    assert run.counter('sip_tcp_taken_over') == 1 and run.counter('sip_messages') == 1


def test_a_fin_inside_a_message_lets_its_bytes_pass_and_the_stream_ends(engine):
    invite = message('INVITE', 1, sdp())
    sport = 35000
    steps = handshake(sport) + [c2s(sport, 'FPA', C_ISN + 1, payload=invite[:100])]
    run = run_pcap(config(engine), sequenced(steps))
    out = rows(run.outputs[1], 'tcp.srcport == 35000 and tcp.len > 0')
    assert [(r['tcp.seq_raw'], bytes.fromhex(r['tcp.payload'])) for r in out] == [(str(C_ISN + 1), invite[:100])]
    assert int(out[0]['tcp.flags'], 16) & 1 == 1
    assert run.counter('sip_tcp_end_truncated') == 1 and run.counter('sip_messages') == 0


def test_the_alg_takes_a_message_out_of_the_stream_and_answers_in_the_other(engine):
    # Under block-message, a MESSAGE between two INVITEs is taken out: the server's stream has the two
    # INVITEs only, back to back, and the phone is acknowledged for all three. A request with a broken
    # CSeq under malformed-header-cseq respond is answered 400 in the stream back to the phone, before
    # the server's own response. The helper has no such options: everything passes.
    from test_sip_attacks import config as profiled
    sport = 40100
    i1, m2 = message('INVITE', 1), message('MESSAGE', 2)
    bad = message('OPTIONS', 3).replace(b'CSeq: 3 OPTIONS', b'CSeq: x OPTIONS')
    i4 = message('INVITE', 4)
    ok = (b'SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 198.51.100.1:5060;branch=z9hG4bK1x\r\n'
          b'From: Alice <sip:alice@198.51.100.1>;tag=1\r\nTo: <sip:bob@198.51.100.2>;tag=b\r\n'
          b'Call-ID: call1@198.51.100.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n')
    at = [C_ISN + 1]
    for m in (i1, m2, bad, i4):
        at.append(at[-1] + len(m))
    grow = 4 * 4  # Via, From, Call-ID and Contact gain 4 bytes each
    steps = handshake(sport) + [
        c2s(sport, 'PA', at[0], S_ISN + 1, i1),
        s2c(sport, 'A', S_ISN + 1, at[0] + len(i1) + grow),
        c2s(sport, 'PA', at[1], S_ISN + 1, m2),
        c2s(sport, 'PA', at[2], S_ISN + 1, bad),
        c2s(sport, 'PA', at[3], S_ISN + 1, i4)]
    run = run_pcap(profiled(engine, profile_sip='block-message: enable, malformed-header-cseq: respond'),
                   sequenced(steps))
    assert run.returncode == 0, run.stderr
    out, into = rows(run.outputs[1]), rows(run.outputs[0])
    to_server = stream(out, C_ISN)
    if engine == 'helper':
        assert to_server.count(b'sip:bob@198.51.100.2 SIP/2.0') == 4
        assert run.counter('sip_tcp_taken_out') == 0
        return
    assert to_server.startswith(b'INVITE') and to_server.count(b'INVITE sip:') == 2
    assert b'MESSAGE' not in to_server and b'OPTIONS' not in to_server
    assert len(to_server) == len(i1) + len(i4) + 2 * grow
    # The phone: acknowledged for everything it sent (the MESSAGE as soon as it was taken out, the
    # server having all before it), and answered 400 with its own Via, its CSeq and a To tag.
    to_phone = stream(into, S_ISN)
    assert to_phone.startswith(b'SIP/2.0 400 ')
    assert b'Via: SIP/2.0/TCP 10.0.1.2:5060;branch=z9hG4bK3x\r\n' in to_phone
    assert b'CSeq: x OPTIONS' in to_phone and re.search(rb'To: <sip:bob@198\.51\.100\.2>;tag=\S+', to_phone)
    acks = [int(r['tcp.ack_raw']) for r in into if r['tcp.flags'] != '0x0012']
    assert at[2] in acks  # the MESSAGE acknowledged by the appliance
    assert run.counter('sip_tcp_taken_out') == 2 and run.counter('drop_sip_method_blocked') == 1
    assert run.counter('sip_responses_sent') == 1 and run.counter('drop_sip_malformed') == 1
    assert run.counter('sip_calls') == 2
    # The server's response follows the 400 in the phone's stream, and the phone's acknowledgement of
    # both reaches the server in the server's numbering.
    steps += [s2c(sport, 'PA', S_ISN + 1, at[0] + len(i1) + len(i4) + 2 * grow, ok)]
    run = run_pcap(profiled(engine, profile_sip='block-message: enable, malformed-header-cseq: respond'),
                   sequenced(steps))
    into = rows(run.outputs[0])
    to_phone = stream(into, S_ISN)
    answer = to_phone[:to_phone.index(b'SIP/2.0 200 OK')]
    assert answer.startswith(b'SIP/2.0 400 ') and to_phone.endswith(b'Content-Length: 0\r\n\r\n')
    steps += [c2s(sport, 'A', at[4], S_ISN + 1 + len(answer) + len(ok) - 3 * 4)]
    run = run_pcap(profiled(engine, profile_sip='block-message: enable, malformed-header-cseq: respond'),
                   sequenced(steps))
    last = rows(run.outputs[1])[-1]
    assert int(last['tcp.ack_raw']) == S_ISN + 1 + len(ok)
