"""Writes benchmark captures quickly without scapy: many UDP flows of a fixed frame size, as classic
pcap. Frame sizes count the Ethernet FCS the way traffic generators do (a "64-byte" frame is 60 bytes
on the wire capture)."""
import struct


def _csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack(f'!{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(':'))


def ip_bytes(text):
    return bytes(int(x) for x in text.split('.'))


def udp_flows(path, count, frame_size, src_mac, dst_mac, src_net='10.1.0.0', dst='198.51.100.2', dst_net=None,
              dst_hosts=1, sport_base=1024, dport=5000):
    """`count` packets, each a different flow: sources walk a /16 (src_net), source ports rise; with
    dst_net, destinations walk dst_hosts addresses of that network instead of the single `dst`."""
    payload_len = max(0, frame_size - 4 - 14 - 20 - 8)
    smac, dmac = mac_bytes(src_mac), mac_bytes(dst_mac)
    src0 = int.from_bytes(ip_bytes(src_net), 'big')
    dst0 = int.from_bytes(ip_bytes(dst_net or dst), 'big')
    payload = bytes(payload_len)
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            src = src0 + 2 + (i % 65000)
            d = dst0 + (1 + i % dst_hosts if dst_net else 0)
            udp = struct.pack('!HHHH', sport_base + (i // 65000) % 60000, dport, 8 + payload_len, 0) + payload
            ip = struct.pack('!BBHHHBBHII', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src, d)
            ip = ip[:10] + struct.pack('!H', _csum(ip)) + ip[12:]
            frame = dmac + smac + b'\x08\x00' + ip + udp
            f.write(struct.pack('<IIII', 0, 0, len(frame), len(frame)) + frame)


def udp_frame(src_mac, dst_mac, src, sport, dst, dport, payload):
    """One Ethernet frame of a UDP datagram, with its IPv4 and UDP checksums."""
    udp_len = 8 + len(payload)
    pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack('!BBH', 0, 17, udp_len)
    udp = struct.pack('!HHHH', sport, dport, udp_len, 0) + payload
    c = _csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack('!H', c) + udp[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0, ip_bytes(src), ip_bytes(dst))
    ip = ip[:10] + struct.pack('!H', _csum(ip)) + ip[12:]
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + b'\x08\x00' + ip + udp


def sip(head, body=''):
    """A SIP message from lines ending in \\n: CRLF line ends, Content-Length counted."""
    b = body.replace('\n', '\r\n')
    return (head.replace('\n', '\r\n') + f'Content-Length: {len(b)}\r\n\r\n' + b).encode()


def sdp(addr, port):
    """An audio offer of one PCMU stream at addr:port."""
    return f'v=0\no=- 1 1 IN IP4 {addr}\ns=-\nc=IN IP4 {addr}\nt=0 0\nm=audio {port} RTP/AVP 0\na=rtpmap:0 PCMU/8000\n'


def write_pcap(path, frames):
    """Frames as a classic pcap file."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack('<IIII', 0, 0, len(fr), len(fr)) + fr)
