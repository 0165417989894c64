"""The SIP ALG's protection (config sip), over net_pcap, with the session helper for contrast: each syntax
check with each action (pass: the message leaves; discard: it does not; respond: it does not, and its
sender gets 400, or 413 for a long line or body, with its own Via, To tag and CSeq), Require and
Proxy-Require, block-unknown, blocked methods, and the request rates under each track mode. The helper
has no profile: everything passes it."""
import contextlib
import re
import time

import pytest

from pcap_env import INSIDE_MAC, replaying_daemon, sequenced, sip
from sipalg_tools import tshark
from sipalg_tools.daemon import control_request, run_pcap
from test_sip_attacks import config, invite, udp_in, udp_out

SDP = """v=0
o=alice 1 1 IN IP4 10.0.1.2
s=-
c=IN IP4 10.0.1.2
t=0 0
m=audio 4000 RTP/AVP 0"""


def request(call_id, method='INVITE', extra='', body=SDP, start=None, sdp=lambda b: b, replace=()):
    """A request of the inside phone with its own Call-ID, branch and tag; `extra` header lines go after
    Max-Forwards, `replace` pairs change the head, `sdp` changes the body."""
    head = f"""{start or f'{method} sip:bob@198.51.100.2 SIP/2.0'}
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK{call_id}
Max-Forwards: 70{extra}
To: <sip:bob@198.51.100.2>
From: Alice <sip:alice@10.0.1.2>;tag=a{call_id}
Call-ID: {call_id}@10.0.1.2
CSeq: 1 {method}
Contact: <sip:alice@10.0.1.2:5060>"""
    for old, new in replace:
        assert old in head
        head = head.replace(old, new)
    if body:
        head += '\nContent-Type: application/sdp'
    return sip(head, sdp(body) if body else '')


def line(text):
    return '\n' + text


# One message per check, each with that fault alone (sipalgctl sip-check finds exactly it).
FAULTY = {
    'malformed-request-line': dict(start='INVITE sip:bob@198.51.100.2 SIP/3.0'),
    'malformed-header-via': dict(replace=[(';branch=z9hG4bKvia', ';branch=z9hG4bKvia, junk')]),
    'malformed-header-from': dict(replace=[('10.0.1.2>;tag=afrom', '10.0.1.2;tag=afrom')]),
    'malformed-header-to': dict(replace=[('To: <sip:bob@198.51.100.2>', 'To: <sip:bob@198.51.100.2')]),
    'malformed-header-call-id': dict(replace=[('Call-ID: callid@10.0.1.2', 'Call-ID: callid@10.0.1.2@x y')]),
    'malformed-header-cseq': dict(replace=[('CSeq: 1 INVITE', 'CSeq: x INVITE')]),
    'malformed-header-rack': dict(extra=line('RAck: x 1 INVITE')),
    'malformed-header-rseq': dict(extra=line('RSeq: x')),
    'malformed-header-contact': dict(replace=[('Contact: <sip:alice@10.0.1.2:5060>', 'Contact: <sip:alice@10.0.1.2:5060')]),
    'malformed-header-record-route': dict(extra=line('Record-Route: <sip:p@198.51.100.9;lr')),
    'malformed-header-route': dict(extra=line('Route: <sip:p@198.51.100.9;lr')),
    'malformed-header-expires': dict(extra=line('Expires: soon')),
    'malformed-header-content-type': None,  # faulty() writes its Content-Type
    'malformed-header-max-forwards': dict(replace=[('Max-Forwards: 70', 'Max-Forwards: seventy')]),
    'malformed-header-allow': dict(extra=line('Allow: INVITE,,')),
    'malformed-header-p-asserted-identity': dict(extra=line('P-Asserted-Identity: <sip:a@10.0.1.2')),
    'malformed-header-sdp-v': dict(sdp=lambda b: b.replace('v=0', 'v=1')),
    'malformed-header-sdp-o': dict(sdp=lambda b: b.replace('o=alice 1 1 IN', 'o=alice 1 IN')),
    'malformed-header-sdp-s': dict(sdp=lambda b: b.replace('s=-', 's=-\ns=x')),
    'malformed-header-sdp-i': dict(sdp=lambda b: b.replace('s=-', 's=-\ni=a\ni=b')),
    'malformed-header-sdp-c': dict(sdp=lambda b: b.replace('c=IN IP4 10.0.1.2', 'c=IN IP4')),
    'malformed-header-sdp-b': dict(sdp=lambda b: b.replace('t=0 0', 'b=AS\nt=0 0')),
    'malformed-header-sdp-z': dict(sdp=lambda b: b.replace('t=0 0', 't=0 0\nz=x')),
    'malformed-header-sdp-k': dict(sdp=lambda b: b.replace('t=0 0', 'k=bogus\nt=0 0')),
    'malformed-header-sdp-a': dict(sdp=lambda b: b + '\na='),
    'malformed-header-sdp-t': dict(sdp=lambda b: b.replace('t=0 0', 't=0')),
    'malformed-header-sdp-r': dict(sdp=lambda b: b.replace('t=0 0', 't=0 0\nr=x')),
    'malformed-header-sdp-m': dict(sdp=lambda b: b.replace('m=audio 4000', 'm=audio x')),
    'unknown-header': dict(extra=line('X-Custom: 1')),
}


def faulty(check):
    call_id = re.sub(r'[^a-z]', '', check.split('-', 2)[-1]) or 'x'
    if check == 'malformed-header-call-id':
        call_id = 'callid'
    if check == 'malformed-header-content-type':
        return request(call_id).replace(b'Content-Type: application/sdp', b'Content-Type: application')
    return request(call_id, **FAULTY[check])


def sent_out(run):
    return [bytes.fromhex(r['udp.payload']) for r in tshark.fields(run.outputs[1], ['udp.payload'], 'udp.dstport == 5060')]


def answered(run):
    """The responses the appliance sent back to the phone."""
    return [bytes.fromhex(r['udp.payload']).decode() for r in
            tshark.fields(run.outputs[0], ['udp.payload'], 'ip.dst == 10.0.1.2 && udp.dstport == 5060')]


def profile(pairs):
    return ', '.join(f'{k}: {v}' for k, v in pairs)


@pytest.mark.parametrize('action', ['pass', 'discard', 'respond'])
def test_each_check_with_each_action(action):
    checks = list(FAULTY)
    messages = [faulty(c) for c in checks]
    run = run_pcap(config('alg', profile_sip=profile((c, action) for c in checks)),
                   sequenced([udp_in(m) for m in messages]))
    assert run.returncode == 0, run.stderr
    out = sent_out(run)
    if action == 'pass':
        # A check whose action is pass is not run: nothing it would find changes anything.
        assert len(out) == len(checks) and run.counter('drop_sip_malformed') == 0 and answered(run) == []
        assert run.counter('sip_malformed') == 0
        return
    assert run.counter('sip_malformed') == len(checks)
    assert out == [] and run.counter('drop_sip_malformed') == len(checks)
    responses = answered(run)
    if action == 'discard':
        assert responses == [] and run.counter('sip_responses_sent') == 0
        return
    assert len(responses) == len(checks) and run.counter('sip_responses_sent') == len(checks)
    for message, response in zip(messages, responses):
        text = message.decode()
        assert response.startswith('SIP/2.0 400 Bad Request\r\n'), response
        # The sender's own Via, From, Call-ID and CSeq, a To tag of ours, no body (RFC 3261 §8.2.6).
        via = re.search(r'^Via: (.*)\r$', text, re.M).group(1)
        assert f'\r\nVia: {via}\r\n' in response
        assert re.search(r'\r\nTo: [^\r]*;tag=[0-9a-f]+\r\n', response)
        assert re.search(r'^CSeq: (.*)\r$', text, re.M).group(0) + '\n' in response
        assert response.endswith('Content-Length: 0\r\n\r\n')


def test_the_session_helper_has_no_checks():
    checks = list(FAULTY)
    run = run_pcap(config('helper', profile_sip=profile((c, 'discard') for c in checks)),
                   sequenced([udp_in(faulty(c)) for c in checks]))
    assert len(sent_out(run)) == len(checks)
    assert run.counter('sip_malformed') == 0 and run.counter('drop_sip_malformed') == 0


def test_a_long_line_is_answered_413_unless_block_long_lines_is_off():
    long = request('long', extra=line('Subject: ' + 'x' * 1200))
    short = request('short')
    run = run_pcap(config('alg'), sequenced([udp_in(long), udp_in(short)]))
    assert len(sent_out(run)) == 1 and b'Call-ID: short@' in sent_out(run)[0]
    assert [r.split('\r\n')[0] for r in answered(run)] == ['SIP/2.0 413 Request Entity Too Large']
    run = run_pcap(config('alg', profile_sip='block-long-lines: disable'), sequenced([udp_in(long)]))
    assert len(sent_out(run)) == 1 and run.counter('drop_sip_malformed') == 0
    run = run_pcap(config('alg', profile_sip='max-line-length: 2048'), sequenced([udp_in(long)]))
    assert len(sent_out(run)) == 1 and run.counter('sip_malformed') == 0
    run = run_pcap(config('helper'), sequenced([udp_in(long)]))
    assert len(sent_out(run)) == 1


def test_max_body_length_answers_a_larger_body_413():
    run = run_pcap(config('alg', profile_sip='max-body-length: 60'), sequenced([udp_in(request('body'))]))
    assert sent_out(run) == [] and answered(run)[0].startswith('SIP/2.0 413 ')


def test_requests_without_require_or_proxy_require():
    plain = request('plain')
    required = request('req', extra=line('Require: 100rel') + line('Proxy-Require: foo'))
    for key in ('malformed-header-no-require', 'malformed-header-no-proxy-require'):
        run = run_pcap(config('alg', profile_sip=f'{key}: discard'), sequenced([udp_in(plain), udp_in(required)]))
        out = sent_out(run)
        assert len(out) == 1 and b'Call-ID: req@' in out[0], key
        assert run.counter('drop_sip_malformed') == 1


@pytest.mark.parametrize('engine', ['alg', 'helper'])
def test_block_unknown_drops_a_method_not_known(engine):
    unknown = request('foo', method='FOO', body='')
    run = run_pcap(config(engine), sequenced([udp_in(unknown), udp_in(request('known'))]))
    assert len(sent_out(run)) == (1 if engine == 'alg' else 2)
    assert run.counter('drop_sip_unknown_method') == (1 if engine == 'alg' else 0)
    if engine == 'alg':
        run = run_pcap(config(engine, profile_sip='block-unknown: disable'), sequenced([udp_in(unknown)]))
        assert len(sent_out(run)) == 1


@pytest.mark.parametrize('engine', ['alg', 'helper'])
def test_a_blocked_method_is_dropped(engine):
    steps = [udp_in(request('inv')), udp_in(request('opt', method='OPTIONS', body='')),
             udp_in(request('msg', method='MESSAGE', body=''))]
    run = run_pcap(config(engine, profile_sip='block-invite: enable, block-message: enable'), sequenced(steps))
    out = sent_out(run)
    if engine == 'helper':
        assert len(out) == 3
        return
    assert len(out) == 1 and out[0].startswith(b'OPTIONS ')
    assert run.counter('drop_sip_method_blocked') == 2 and run.counter('sip_calls') == 0
    run = run_pcap(config(engine, profile_sip='block-geo-red-options: enable'), sequenced(steps))
    assert [m.split(b' ')[0] for m in sent_out(run)] == [b'INVITE', b'MESSAGE']


@pytest.mark.parametrize('track,passed', [('none', 2), ('src-ip', 4), ('dest-ip', 4)])
def test_invite_rate_under_each_track_mode(track, passed):
    # Three INVITEs from each of two phones (track src-ip), to two far ends (dest-ip); the replay takes
    # well under a second, and a bucket holds one second of its rate: 2 a policy, or 2 an address.
    steps = []
    for i in range(3):
        steps.append(udp_in(invite(f'p{i}', media_port=4000 + 2 * i, to='198.51.100.2')))
        steps.append(udp_in(invite(f'q{i}', address='10.0.1.3', media_port=4100 + 2 * i, to='198.51.100.3'),
                            src='10.0.1.3', dst='198.51.100.3', mac='02:00:00:00:00:03'))
    run = run_pcap(config('alg', profile_sip=f'invite-rate: 2, invite-rate-track: {track}'), sequenced(steps))
    assert run.returncode == 0, run.stderr
    out = [r for r in tshark.fields(run.outputs[1], ['ip.dst', 'udp.payload'], 'udp.dstport == 5060')]
    assert len(out) == passed
    assert run.counter('drop_sip_rate') == 6 - passed and run.counter('sip_calls') == passed
    # Other methods are not counted against the INVITE rate; the helper has no rates.
    run = run_pcap(config('helper', profile_sip=f'invite-rate: 2, invite-rate-track: {track}'), sequenced(steps))
    assert run.counter('drop_sip_rate') == 0


def eight_phones():
    """The ALG's configuration with eight inside phones (which the two workers share by their address),
    and a function making phone i's INVITE number k."""
    from pcap_env import sip_config
    hosts = [f'10.0.1.{i}' for i in range(2, 10)]
    macs = [f'02:00:00:00:00:{i:02x}' for i in range(2, 10)]
    arp = ''.join(f'    {10 + i}: {{interface: port1, ip: {h}, mac: "{m}"}}\n' for i, (h, m) in enumerate(zip(hosts, macs)))

    def phone_invite(i, k):
        return udp_in(invite(f'h{i}r{k}', address=hosts[i], media_port=4000 + 2 * k), src=hosts[i], mac=macs[i])
    return sip_config('alg', more_arp=arp), phone_invite


def test_rates_with_two_workers_stay_within_the_configured_rate():
    # Eight phones (spread over the two workers by their address) send three INVITEs each against a policy
    # rate of 8: the workers take from one bucket, so 8 pass in all, however the phones fell.
    base, phone_invite = eight_phones()
    steps = [phone_invite(i, k) for k in range(3) for i in range(8)]
    run = run_pcap(base + 'voip:\n  profile:\n    default: {sip: {invite-rate: 8}}\n', sequenced(steps), workers=2)
    assert run.returncode == 0, run.stderr
    assert len(sent_out(run)) == 8 and run.counter('drop_sip_rate') == 16
    # Both workers met INVITEs (the test would prove nothing if one worker had all the phones); which
    # of them took the tokens depends on which came first.
    per_worker = [w['sip_calls'] + w['drop_sip_rate'] for w in run.stats['workers']]
    assert sum(per_worker) == 24 and min(per_worker) > 0, per_worker
    # All of a policy's requests on one worker (one phone): still the whole rate, not a worker's share.
    flood = [udp_in(invite(f'f{k}', media_port=4000 + 2 * k)) for k in range(20)]
    for track in ('none', 'src-ip', 'dest-ip'):
        run = run_pcap(base + f'voip:\n  profile:\n    default: {{sip: {{invite-rate: 5, invite-rate-track: {track}}}}}\n',
                       sequenced(flood), workers=2)
        assert len(sent_out(run)) == 5 and run.counter('drop_sip_rate') == 15, track


def test_max_dialogs_with_two_workers_is_the_policys():
    # Eight phones on two workers call once each under max-dialogs 3: the workers count the policy's
    # calls together, so 3 calls in all, not 3 a worker.
    base, phone_invite = eight_phones()
    run = run_pcap(base + 'voip:\n  profile:\n    default: {sip: {max-dialogs: 3}}\n',
                   sequenced([phone_invite(i, 0) for i in range(8)]), workers=2)
    assert run.returncode == 0, run.stderr
    assert len(sent_out(run)) == 3 and run.counter('sip_dialogs_over_limit') == 5
    per_worker = [w['sip_calls'] + w['sip_dialogs_over_limit'] for w in run.stats['workers']]
    assert sum(per_worker) == 8 and min(per_worker) > 0, per_worker


@contextlib.contextmanager
def live_alg(tmp_path, inside, outside, text, extra=()):
    """sipalgd replaying `inside` into port1 and `outside` into wan1 from memory, over and over (as
    retransmissions), until the block ends; yields a function that runs CLI text through its socket."""
    with replaying_daemon(tmp_path, inside, text, 'sipalg-live', ['--idle-sleep-us', '100'] + list(extra),
                          outside=outside) as d:
        def cli(request_text):
            r = control_request(d.sock, 'cli\n' + request_text)
            assert r['ok'] is True, r
            return r['output']

        cli.sock = d.sock
        yield cli


def wait_for(cli, text, what, seconds=5.0):
    """The output of CLI `text` once it holds `what` (or the last one, after `seconds`)."""
    deadline = time.monotonic() + seconds
    out = cli(text)
    while what not in out and time.monotonic() < deadline:
        time.sleep(0.05)
        out = cli(text)
    return out


def answered_call(call_id, address='10.0.1.2', mac=INSIDE_MAC):
    """A phone's INVITE (as it arrives inside) and the far end's 200 to it (as it arrives outside)."""
    from scapy.layers.inet import IP, UDP
    from pcap_env import from_outside
    ok = sip(f"""SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK{call_id}
To: <sip:bob@198.51.100.2>;tag=b{call_id}
From: Alice <sip:alice@198.51.100.1>;tag=a{call_id}
Call-ID: {call_id}@198.51.100.1
CSeq: 1 INVITE
Contact: <sip:bob@198.51.100.2>
Content-Type: application/sdp""", SDP.replace('10.0.1.2', '198.51.100.2').replace('4000', '6000'))
    return (udp_in(invite(call_id, address=address), src=address, mac=mac)[1],
            from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=5060, dport=5060) / ok))


def test_diagnose_sip_proxy_calls_filter_meters_and_stats(tmp_path):
    """A running ALG fed an INVITE from two phones (replayed from memory: retransmissions of one call each)
    and the far end's 200 to the first: the calls listed and filtered, the answered one idle (no media),
    one cleared with its pinholes, the INVITE rate's meter, the counters."""
    invite1, ok1 = answered_call('d1')
    invite2 = udp_in(invite('d2', address='10.0.1.3'), src='10.0.1.3', mac='02:00:00:00:00:03')[1]
    with live_alg(tmp_path, [invite1, invite2], [ok1],
                  config('alg', profile_sip='invite-rate: 1000, invite-rate-track: src-ip')) as cli:
        calls = wait_for(cli, 'diagnose sys sip-proxy calls list\n', 'state=answered')
        assert 'total calls 2' in calls and 'call-id=d1@10.0.1.2 state=answered' in calls, calls
        assert 'src=10.0.1.3:5060 dst=198.51.100.2:5060' in calls and 'media=no' in calls
        # The filter: by source, negated, by policy, listed and cleared.
        assert 'total calls 1' in cli('diagnose sys sip-proxy filter src-addr4 10.0.1.3\ndiagnose sys sip-proxy calls list\n')
        shown = cli('diagnose sys sip-proxy filter negate src-addr4\ndiagnose sys sip-proxy filter list\n'
                    'diagnose sys sip-proxy calls list\n')
        assert 'src-addr4     ! 10.0.1.3' in shown and 'call-id=d1@10.0.1.2' in shown and 'd2@' not in shown, shown
        assert 'total calls 0' in cli('diagnose sys sip-proxy filter clear\ndiagnose sys sip-proxy filter policy 7\n'
                                      'diagnose sys sip-proxy calls list\n')
        cli('diagnose sys sip-proxy filter clear\n')
        # Idle: the answered call, whose media never came.
        idle = cli('diagnose sys sip-proxy calls idle\n')
        assert 'total calls 1' in idle and 'd1@' in idle, idle
        # A bad filter line refuses the request, at its line.
        r = control_request(cli.sock, 'cli\ndiagnose sys sip-proxy filter src-addr4 nowhere\n')
        assert r['ok'] is False and 'not an IPv4 address' in r['errors'][0]['message'], r
        # Meters: the INVITE rate per source address, what each phone's retransmissions took.
        meters = cli('diagnose sys sip-proxy meters list\n')
        assert 'method=INVITE addr=10.0.1.2 rate=1000/s' in meters and 'addr=10.0.1.3' in meters, meters
        assert 'policy: policy_id=1 dialogs=2 dialog-limit=0' in meters, meters
        stats = cli('diagnose sys sip-proxy stats\n')
        assert stats.count('sip_calls ') == 1
        # Per policy, then in total: the INVITEs (retransmitted from memory, far beyond the rate of 1,000 a
        # second a phone: most blocked by it), the 200s to them.
        invites = re.search(r'^policy 1:\n.*?^  INVITE +(\d+) +(\d+) +(\d+) +(\d+)$', stats, re.M | re.S)
        assert invites, stats
        received, blocked, responses, _ = (int(x) for x in invites.groups())
        assert received >= 2 and 1 <= blocked < received and responses >= 1, stats
        assert re.search(r'^total:\n.*?^  INVITE +\d+', stats, re.M | re.S)
        # Clear: counting starts again from what the workers show now.
        after = cli('diagnose sys sip-proxy stats clear\ndiagnose sys sip-proxy stats\n')
        again = re.search(r'^policy 1:\n.*?^  INVITE +(\d+)', after, re.M | re.S)
        assert again is None or int(again.group(1)) < received, after
        # Clear: the filter's calls end, their pinholes with them.
        assert 'mapping: media' in cli('diagnose sys sip mapping list\n')
        cleared = cli('diagnose sys sip-proxy filter src-addr4 10.0.1.2\ndiagnose sys sip-proxy calls clear\n'
                      'diagnose sys sip-proxy filter clear\ndiagnose sys sip-proxy calls list\ndiagnose sys sip mapping list\n')
        assert '1 calls cleared' in cleared and 'call-id=d1@10.0.1.2 state=ended' in cleared, cleared
        assert 'state=calling' in cleared  # the other phone's call goes on
        assert '10.0.1.2:4000' not in cleared




def sip_counter(cli, name, at_least=1, seconds=5.0):
    """A counter of diagnose sys sip-proxy stats, once it reaches `at_least` (or after `seconds`)."""
    deadline = time.monotonic() + seconds
    while True:
        found = re.search(rf'^ *{name} +(\d+)$', cli('diagnose sys sip-proxy stats\n'), re.M)
        value = int(found.group(1)) if found else -1
        if value >= at_least or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_call_keepalive_and_max_idle_dialogs_end_answered_calls_without_media(tmp_path):
    """Answered calls whose media never comes: with max-idle-dialogs 1 one of two ends at once; with
    call-keepalive 1 (minute; the clock sped up, a minute in a tenth of a second) the call ends after it;
    with FortiOS's defaults both stay, listed as idle."""
    calls = [answered_call('k0'), answered_call('k1')]  # two calls of one phone, over its one SIP session
    inside = [c[0] for c in calls]
    outside = [c[1] for c in calls]
    with live_alg(tmp_path, inside, outside, config('alg', profile_sip='max-idle-dialogs: 1')) as cli:
        assert sip_counter(cli, 'sip_idle_dialogs_ended') == 1
        listed = cli('diagnose sys sip-proxy calls list\n')
        assert listed.count('state=answered') == 1 and listed.count('state=ended') == 1, listed
    with live_alg(tmp_path, inside[:1], outside[:1], config('alg', profile_sip='call-keepalive: 1'),
                  extra=['--session-time-scale', '600']) as cli:
        assert sip_counter(cli, 'sip_calls_keepalive_ended') == 1
        assert 'state=ended' in cli('diagnose sys sip-proxy calls list\n')
    with live_alg(tmp_path, inside, outside, config('alg'), extra=['--session-time-scale', '600']) as cli:
        wait_for(cli, 'diagnose sys sip-proxy calls list\n', 'state=answered')
        time.sleep(0.5)
        assert 'total calls 2' in cli('diagnose sys sip-proxy calls idle\n')
        assert sip_counter(cli, 'sip_calls_keepalive_ended', seconds=0) == 0


@pytest.mark.parametrize('engine', ['alg', 'helper'])
def test_open_record_route_pinhole(engine):
    # The phone's own proxy part on port 5070 records the route; requests of the dialog will come to it.
    rr = request('rr', extra=line('Record-Route: <sip:10.0.1.2:5070;lr>'))
    first = run_pcap(config(engine), sequenced([udp_in(rr)]))
    text = sent_out(first)[0].decode()
    routed = re.search(r'Record-Route: <sip:198\.51\.100\.1:(\d+);lr>', text)
    assert routed, text
    port = int(routed.group(1))
    if engine == 'helper':
        # The helper has no profile: the address is translated, the port kept, nothing opened.
        assert port == 5070 and first.counter('contact_pinholes_opened') == 0
        return
    assert first.counter('contact_pinholes_opened') == 1
    bye = sip("""BYE sip:10.0.1.2:5070;lr SIP/2.0
Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bKrrbye
To: Alice <sip:alice@198.51.100.1>;tag=arr
From: <sip:bob@198.51.100.2>;tag=brr
Call-ID: rr@198.51.100.1
CSeq: 2 BYE""")
    run = run_pcap(config(engine), sequenced([udp_in(rr), udp_out(bye, dport=port)]))
    inside = [r for r in tshark.fields(run.outputs[0], ['udp.dstport'], 'ip.dst == 10.0.1.2')]
    assert [r['udp.dstport'] for r in inside] == ['5070']
    # Disabled in the profile: the port kept, nothing opened.
    run = run_pcap(config(engine, profile_sip='open-record-route-pinhole: disable'), sequenced([udp_in(rr)]))
    assert 'Record-Route: <sip:198.51.100.1:5070;lr>' in sent_out(run)[0].decode()
    assert run.counter('contact_pinholes_opened') == 0


def test_open_via_pinhole():
    # A phone that sends from 5060 but wants its responses on 5080 (its Via, without rport).
    req = request('via', replace=[('Via: SIP/2.0/UDP 10.0.1.2:5060;', 'Via: SIP/2.0/UDP 10.0.1.2:5080;')])
    off = run_pcap(config('alg'), sequenced([udp_in(req)]))
    assert 'Via: SIP/2.0/UDP 198.51.100.1:5080;' in sent_out(off)[0].decode()  # FortiOS's default: disable
    on = run_pcap(config('alg', profile_sip='open-via-pinhole: enable'), sequenced([udp_in(req)]))
    via = re.search(r'Via: SIP/2\.0/UDP 198\.51\.100\.1:(\d+);', sent_out(on)[0].decode())
    assert via and on.counter('contact_pinholes_opened') == 1
    ok = sip(f"""SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 198.51.100.1:{via.group(1)};branch=z9hG4bKvia
To: <sip:bob@198.51.100.2>;tag=bvia
From: Alice <sip:alice@198.51.100.1>;tag=avia
Call-ID: via@198.51.100.1
CSeq: 1 INVITE""")
    run = run_pcap(config('alg', profile_sip='open-via-pinhole: enable'),
                   sequenced([udp_in(req), udp_out(ok, dport=int(via.group(1)))]))
    inside = tshark.fields(run.outputs[0], ['udp.dstport', 'udp.payload'], 'ip.dst == 10.0.1.2')
    assert [r['udp.dstport'] for r in inside] == ['5080']
    assert 'Via: SIP/2.0/UDP 10.0.1.2:5080;' in bytes.fromhex(inside[0]['udp.payload']).decode()


def test_register_contact_trace():
    reg = request('reg', method='REGISTER', body='', extra=line('Expires: 600'))
    plain = run_pcap(config('alg'), sequenced([udp_in(reg)]))
    assert b'x-orig' not in sent_out(plain)[0] and b'10.0.1.2' not in sent_out(plain)[0]
    traced = run_pcap(config('alg', profile_sip='register-contact-trace: enable'), sequenced([udp_in(reg)]))
    text = sent_out(traced)[0].decode()
    assert 'Contact: <sip:alice@198.51.100.1:' in text and ';x-orig=10.0.1.2:5060>' in text, text
    assert traced.counter('sip_inside_address_left') == 0  # written on purpose: not a leak
    helper = run_pcap(config('helper', profile_sip='register-contact-trace: enable'), sequenced([udp_in(reg)]))
    assert b'x-orig' not in sent_out(helper)[0]
