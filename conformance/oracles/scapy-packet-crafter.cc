#include "scapy-packet-crafter.h"

#include "embedded-python.h"

#include <exception>
#include <pybind11/embed.h>
#include <pybind11/stl.h>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace offloadlab
{

namespace
{

// The glue in Python: Scapy's API is Python, and keeping it here keeps the C++ side thin.
constexpr const char* kHelperSource = R"PY(
import ipaddress

from scapy.all import IP, UDP, IPOption_EOL, IPOption_Router_Alert, IPOption_RR, Raw, fragment, raw
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                                IPv6ExtHdrRouting, PadN)
from scapy.layers.ipsec import split_for_transport


def _parse(data):
    if len(data) < 20:
        raise ValueError('%d bytes: shorter than an IPv4 header' % len(data))
    if data[0] >> 4 != 4:
        raise ValueError('IP version %d, not 4' % (data[0] >> 4))
    ihl = data[0] & 0x0f
    if ihl < 5 or ihl * 4 > len(data):
        raise ValueError('IHL %d does not fit %d bytes' % (ihl, len(data)))
    total = int.from_bytes(data[2:4], 'big')
    if total != len(data):
        raise ValueError('total length %d but %d bytes' % (total, len(data)))
    return IP(data)


def _to_fragment(data, size):
    # Scapy's fragment() silently rounds the size down; a caller asking for 30 means a bug.
    if size < 8 or size % 8:
        raise ValueError('fragment payload size %d is not a positive multiple of 8' % size)
    pkt = _parse(data)
    if pkt.flags.DF:
        raise ValueError('DF is set, so the packet must not be fragmented')
    length = len(data) - pkt.ihl * 4
    if length <= size:
        raise ValueError('the %d-byte payload fits into one %d-byte fragment' % (length, size))
    return pkt


def fragments(data, size):
    return [raw(f) for f in fragment(_to_fragment(data, size), fragsize=size)]


def overlapping(data, size):
    pkt = _to_fragment(data, size)
    first = fragment(pkt, fragsize=size)[0]
    start = size - 8
    tail = bytearray(raw(pkt.payload)[start:])
    tail[:8] = bytes(b ^ 0xff for b in tail[:8])
    second = pkt.copy()
    del second.payload
    del second.len
    del second.chksum
    second.frag += start // 8
    second.add_payload(Raw(bytes(tail)))
    return [raw(first), raw(second)]


def udp(src, dst, sport, dport, payload, df):
    # Validated here because Scapy would try to resolve anything else as a host name.
    ipaddress.IPv4Address(src)
    ipaddress.IPv4Address(dst)
    pkt = IP(src=src, dst=dst, ttl=64, flags='DF' if df else 0) / UDP(sport=sport, dport=dport)
    return raw(pkt / Raw(payload))


def with_option(data, router_alert):
    pkt = _parse(data)
    options = list(pkt.options)
    # Options after End of Options are ignored by receivers, so the new one goes before it.
    for i, o in enumerate(options):
        if isinstance(o, IPOption_EOL):
            del options[i:]
            break
    if router_alert:
        options.append(IPOption_Router_Alert())
    else:
        options.append(IPOption_RR(pointer=4, routers=['0.0.0.0'] * 9))
    size = sum(len(raw(o)) for o in options)
    if 20 + (size + 3) // 4 * 4 > 60:
        raise ValueError('%d bytes of options do not fit the 40 an IPv4 header allows' % size)
    pkt.options = options
    del pkt.ihl
    del pkt.len
    del pkt.chksum
    return raw(pkt)


_EXTENSIONS = {
    'hbh': lambda: IPv6ExtHdrHopByHop(),
    'hbh16': lambda: IPv6ExtHdrHopByHop(options=[PadN(optdata=b'\0' * 12)]),
    'dst': lambda: IPv6ExtHdrDestOpt(),
    'dst16': lambda: IPv6ExtHdrDestOpt(options=[PadN(optdata=b'\0' * 12)]),
    'rt': lambda: IPv6ExtHdrRouting(addresses=['2001:db8::99'], segleft=1),
    'rt0': lambda: IPv6ExtHdrRouting(addresses=[], segleft=0),
    'frag': lambda: IPv6ExtHdrFragment(id=0x1234, m=0, offset=0),
}


def udp6(src, dst, chain, sport, dport, payload):
    ipaddress.IPv6Address(src)
    ipaddress.IPv6Address(dst)
    pkt = IPv6(src=src, dst=dst, hlim=64)
    for name in chain:
        if name not in _EXTENSIONS:
            raise ValueError('unknown extension header %r (known: %s)'
                             % (name, ', '.join(sorted(_EXTENSIONS))))
        pkt = pkt / _EXTENSIONS[name]()
    return raw(pkt / UDP(sport=sport, dport=dport) / Raw(payload))


def esp6_split(data):
    if len(data) < 40 or data[0] >> 4 != 6:
        raise ValueError('not an IPv6 packet')
    header, nh, payload = split_for_transport(IPv6(data), 50)
    return len(raw(header)), nh


def describe(data):
    try:
        _parse(data)
        problem = None
    except ValueError as e:
        problem = str(e)
    try:
        summary = IP(data).summary()
    except Exception as e:
        summary = 'Scapy cannot dissect it (%r)' % e
    return summary if problem is None else 'not a valid IPv4 packet (%s): %s' % (problem, summary)
)PY";

/// The helper namespace, created on first use inside the process's one interpreter.
struct Helper
{
    Helper();

    py::object names; // a dict once Scapy is imported; null until then
    bool ok{false};
    std::string error;
};

Helper::Helper()
{
    // EmbeddedPython's static is complete before this one, so this is destroyed (and drops its
    // Python objects) before the interpreter finalizes.
    if (!EmbeddedPython::ImportScapy(&error))
    {
        return;
    }
    try
    {
        py::dict dict;
        py::exec(kHelperSource, dict);
        names = dict;
        ok = true;
    }
    catch (const std::exception& e)
    {
        error = std::string("cannot load the Scapy packet crafter with ") +
                EmbeddedPython::Executable() + ": " + e.what();
    }
}

Helper&
GetHelper()
{
    static Helper helper;
    return helper;
}

bool
Fail(std::string* error, const std::string& message)
{
    if (error != nullptr)
    {
        *error = message;
    }
    return false;
}

py::bytes
ToBytes(const std::vector<uint8_t>& v)
{
    return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

std::vector<uint8_t>
FromBytes(const py::handle& object)
{
    const std::string bytes = py::bytes(py::reinterpret_borrow<py::object>(object));
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

/// Calls helper function `name`; the result, or null and *error on any failure.
template <typename... Args>
py::object
Call(const char* what, std::string* error, const char* name, Args&&... args)
{
    const Helper& helper = GetHelper();
    if (!helper.ok)
    {
        Fail(error, helper.error);
        return py::object();
    }
    try
    {
        return helper.names[name](std::forward<Args>(args)...);
    }
    catch (const py::error_already_set& e)
    {
        // Bad input is a ValueError raised on purpose, whose message says it all; anything
        // else keeps Python's traceback.
        const std::string message =
            e.matches(PyExc_ValueError) ? std::string(py::str(e.value())) : e.what();
        Fail(error, std::string("Scapy ") + what + ": " + message);
        return py::object();
    }
    catch (const std::exception& e)
    {
        Fail(error, std::string("Scapy ") + what + ": " + e.what());
        return py::object();
    }
}

/// A Python list of bytes into *fragments; false and *error if it is not one.
bool
ToFragments(const py::object& list,
            const char* what,
            std::vector<std::vector<uint8_t>>* fragments,
            std::string* error)
{
    try
    {
        std::vector<std::vector<uint8_t>> result;
        for (const py::handle item : list)
        {
            result.push_back(FromBytes(item));
        }
        *fragments = std::move(result);
        return true;
    }
    catch (const std::exception& e)
    {
        return Fail(error, std::string("Scapy ") + what + ": " + e.what());
    }
}

/// One bytes result into *out; false and *error if it is not bytes.
bool
ToPacket(const py::object& object, const char* what, std::vector<uint8_t>* out, std::string* error)
{
    try
    {
        *out = FromBytes(object);
        return true;
    }
    catch (const std::exception& e)
    {
        return Fail(error, std::string("Scapy ") + what + ": " + e.what());
    }
}

} // namespace

bool
ScapyPacketCrafter::IsAvailable(std::string* why)
{
    const Helper& helper = GetHelper();
    return helper.ok || Fail(why, helper.error);
}

bool
ScapyPacketCrafter::Fragment(const std::vector<uint8_t>& ipv4Packet,
                             uint32_t fragmentPayloadSize,
                             std::vector<std::vector<uint8_t>>* fragments,
                             std::string* error)
{
    if (fragments == nullptr)
    {
        return Fail(error, "Fragment: no output vector");
    }
    const py::object result =
        Call("fragment", error, "fragments", ToBytes(ipv4Packet), fragmentPayloadSize);
    return result && ToFragments(result, "fragment", fragments, error);
}

bool
ScapyPacketCrafter::OverlappingFragments(const std::vector<uint8_t>& ipv4Packet,
                                         uint32_t fragmentPayloadSize,
                                         std::vector<std::vector<uint8_t>>* fragments,
                                         std::string* error)
{
    if (fragments == nullptr)
    {
        return Fail(error, "OverlappingFragments: no output vector");
    }
    const py::object result = Call("overlapping fragments",
                                   error,
                                   "overlapping",
                                   ToBytes(ipv4Packet),
                                   fragmentPayloadSize);
    return result && ToFragments(result, "overlapping fragments", fragments, error);
}

bool
ScapyPacketCrafter::UdpDatagram(const std::string& src,
                                const std::string& dst,
                                uint16_t sport,
                                uint16_t dport,
                                const std::vector<uint8_t>& payload,
                                bool dontFragment,
                                std::vector<uint8_t>* out,
                                std::string* error)
{
    if (out == nullptr)
    {
        return Fail(error, "UdpDatagram: no output vector");
    }
    const py::object result =
        Call("UDP datagram", error, "udp", src, dst, sport, dport, ToBytes(payload), dontFragment);
    return result && ToPacket(result, "UDP datagram", out, error);
}

bool
ScapyPacketCrafter::WithIpOptions(const std::vector<uint8_t>& ipv4Packet,
                                  std::vector<uint8_t>* out,
                                  std::string* error,
                                  IpOption option)
{
    if (out == nullptr)
    {
        return Fail(error, "WithIpOptions: no output vector");
    }
    const py::object result = Call("IP options",
                                   error,
                                   "with_option",
                                   ToBytes(ipv4Packet),
                                   option == IpOption::RouterAlert);
    return result && ToPacket(result, "IP options", out, error);
}

std::string
ScapyPacketCrafter::Describe(const std::vector<uint8_t>& ipv4Packet)
{
    std::string error;
    const py::object result = Call("describe", &error, "describe", ToBytes(ipv4Packet));
    if (!result)
    {
        return "<" + std::to_string(ipv4Packet.size()) + " bytes, no description: " + error + ">";
    }
    try
    {
        return result.cast<std::string>();
    }
    catch (const std::exception& e)
    {
        return "<" + std::to_string(ipv4Packet.size()) + " bytes, no description: " + e.what() +
               ">";
    }
}

} // namespace offloadlab

namespace offloadlab
{

bool
ScapyPacketCrafter::Udp6Datagram(const std::string& src,
                                 const std::string& dst,
                                 const std::vector<std::string>& extensions,
                                 uint16_t sport,
                                 uint16_t dport,
                                 const std::vector<uint8_t>& payload,
                                 std::vector<uint8_t>* out,
                                 std::string* error)
{
    py::list chain;
    for (const std::string& e : extensions)
    {
        chain.append(e);
    }
    const py::object result =
        Call("IPv6 UDP datagram", error, "udp6", src, dst, chain, sport, dport, ToBytes(payload));
    return result && ToPacket(result, "IPv6 UDP datagram", out, error);
}

bool
ScapyPacketCrafter::Ipv6EspSplit(const std::vector<uint8_t>& ipv6Packet,
                                 uint32_t* offset,
                                 uint8_t* nextHeader,
                                 std::string* error)
{
    const py::object result = Call("ESP split", error, "esp6_split", ToBytes(ipv6Packet));
    if (!result)
    {
        return false;
    }
    try
    {
        const auto pair = result.cast<std::pair<uint32_t, uint8_t>>();
        *offset = pair.first;
        *nextHeader = pair.second;
        return true;
    }
    catch (const std::exception& e)
    {
        return Fail(error, std::string("Scapy ESP split: ") + e.what());
    }
}

} // namespace offloadlab
