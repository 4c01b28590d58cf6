#include "scapy-esp-oracle.h"

#include "embedded-python.h"

#include <exception>
#include <pybind11/embed.h>

namespace py = pybind11;

namespace offloadlab
{

namespace
{

// The glue in Python: Scapy's API is Python, and keeping it here keeps the C++ side thin.
constexpr const char* kHelperSource = R"PY(
import hashlib
import hmac
import struct

from scapy.compat import raw
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, IPSecIntegrityError, SecurityAssociation


def _ip(data):
    # The packet's own version decides: IPv4, or IPv6 with its extension headers.
    return IPv6(data) if data and data[0] >> 4 == 6 else IP(data)


def make_sa(gcm, enc_key, salt, auth_key, spi, tunnel, src, dst, esn):
    kwargs = dict(spi=spi, esn_en=esn)
    if gcm:
        kwargs.update(crypt_algo='AES-GCM', crypt_key=enc_key + salt)
    else:
        kwargs.update(crypt_algo='AES-CBC', crypt_key=enc_key,
                      auth_algo='SHA2-256-128', auth_key=auth_key)
    if tunnel:
        kwargs['tunnel_header'] = IPv6(src=src, dst=dst) if ':' in src else IP(src=src, dst=dst)
    sa = SecurityAssociation(ESP, **kwargs)
    # Scapy checks key sizes only when a packet is processed; fail at construction instead.
    sa.crypt_algo.check_key(sa.crypt_key)
    sa.auth_algo.check_key(sa.auth_key)
    return sa


def _hmac_needs_esn(sa):
    # Scapy 2.5.0 signs and verifies ESP without the ESN high bits (only AH gets them), against
    # RFC 4303 2.2.1; for an HMAC suite with ESN the ICV is done here instead.
    return sa.esn_en and sa.auth_algo.mac is not None


def _esn_icv(sa, signed, seq_hi):
    mac = hmac.new(sa.auth_key, signed + struct.pack('!L', seq_hi), hashlib.sha256)
    return mac.digest()[:sa.auth_algo.icv_size]


def decrypt(sa, data, seq_hi):
    pkt = _ip(data)
    if ESP not in pkt:
        raise ValueError('no ESP header after the IP header')
    # Scapy reads `esn or sa.esn`, so 0 has to come from the SA.
    sa.esn = seq_hi
    if not _hmac_needs_esn(sa):
        return raw(sa.decrypt(pkt, esn=seq_hi))
    sa.check_spi(pkt[ESP])
    esp = raw(pkt[ESP])
    size = sa.auth_algo.icv_size
    if len(esp) < 8 + size or not hmac.compare_digest(esp[-size:],
                                                      _esn_icv(sa, esp[:-size], seq_hi)):
        raise IPSecIntegrityError('HMAC with ESN high bits %#x does not match' % seq_hi)
    return raw(sa.decrypt(pkt, verify=False, esn=seq_hi))


def encrypt(sa, data, seq, counter_iv):
    seq_lo, seq_hi = seq & 0xffffffff, seq >> 32
    # Scapy takes `seq_num or sa.seq_num` and `esn or sa.esn`: a 0 must come from the SA.
    sa.seq_num = seq_lo
    sa.esn = seq_hi
    iv = struct.pack('!Q', seq) if counter_iv else None
    sealed = sa.encrypt(_ip(data), seq_num=seq_lo, iv=iv, esn=seq_hi)
    out = bytearray(raw(sealed))
    if _hmac_needs_esn(sa):
        size = sa.auth_algo.icv_size
        start = len(out) - len(raw(sealed[ESP]))
        out[-size:] = _esn_icv(sa, bytes(out[start:-size]), seq_hi)
    return bytes(out)
)PY";

/// The helper namespace, created on first use inside the process's one interpreter.
struct Python
{
    Python();

    py::object helper; // a dict once Python runs; null until then

    bool ok{false};
    std::string error;
};

Python::Python()
{
    // EmbeddedPython's static is complete before this one, so this is destroyed (and drops its
    // Python objects) before the interpreter finalizes.
    if (!EmbeddedPython::Import("scapy.layers.ipsec", &error))
    {
        return;
    }
    try
    {
        py::dict names;
        py::exec(kHelperSource, names);
        helper = names;
        ok = true;
    }
    catch (const std::exception& e)
    {
        error = std::string("cannot import scapy.layers.ipsec with ") +
                EmbeddedPython::Executable() + ": " + e.what();
    }
}

Python&
GetPython()
{
    static Python python;
    return python;
}

py::bytes
ToBytes(const std::vector<uint8_t>& v)
{
    return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

void
FromBytes(const py::object& object, std::vector<uint8_t>* out)
{
    const std::string bytes = py::bytes(object);
    out->assign(bytes.begin(), bytes.end());
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

} // namespace

struct ScapyEspOracle::Impl
{
    ~Impl()
    {
        Py_XDECREF(sa);
    }

    /// The SA as a new reference; a bare PyObject* because pybind11's types are hidden
    /// (-fvisibility=hidden) and this struct is not.
    py::object Sa() const
    {
        return py::reinterpret_borrow<py::object>(sa);
    }

    PyObject* sa{nullptr};
    bool gcm{true};
    std::string error;
};

bool
ScapyEspOracle::IsAvailable(std::string* why)
{
    const Python& python = GetPython();
    if (!python.ok)
    {
        return Fail(why, python.error);
    }
    return true;
}

ScapyEspOracle::ScapyEspOracle(const EspAlgorithm& algorithm,
                               uint32_t spi,
                               bool tunnelMode,
                               const std::string& tunnelSrc,
                               const std::string& tunnelDst,
                               bool esn)
    : m_impl(new Impl)
{
    Python& python = GetPython();
    if (!python.ok)
    {
        m_impl->error = python.error;
        return;
    }
    m_impl->gcm = algorithm.suite == EspAlgorithm::Suite::AesGcm;
    try
    {
        py::object sa = python.helper["make_sa"](m_impl->gcm,
                                                 ToBytes(algorithm.encKey),
                                                 ToBytes(algorithm.salt),
                                                 ToBytes(algorithm.authKey),
                                                 spi,
                                                 tunnelMode,
                                                 tunnelSrc,
                                                 tunnelDst,
                                                 esn);
        m_impl->sa = sa.release().ptr();
    }
    catch (const std::exception& e)
    {
        m_impl->error = std::string("Scapy SecurityAssociation: ") + e.what();
    }
}

ScapyEspOracle::~ScapyEspOracle() = default;

bool
ScapyEspOracle::IsValid(std::string* error) const
{
    if (m_impl->sa == nullptr)
    {
        return Fail(error, m_impl->error.empty() ? "no SA" : m_impl->error);
    }
    return true;
}

bool
ScapyEspOracle::Decrypt(const std::vector<uint8_t>& ipv4PacketWithEsp,
                        uint32_t seqHi,
                        std::vector<uint8_t>* innerOut,
                        std::string* error)
{
    if (!IsValid(error))
    {
        return false;
    }
    try
    {
        const py::object result =
            GetPython().helper["decrypt"](m_impl->Sa(), ToBytes(ipv4PacketWithEsp), seqHi);
        FromBytes(result, innerOut);
        return true;
    }
    catch (const std::exception& e)
    {
        return Fail(error, std::string("Scapy decrypt: ") + e.what());
    }
}

bool
ScapyEspOracle::Encrypt(const std::vector<uint8_t>& ipv4Packet,
                        uint64_t seq,
                        std::vector<uint8_t>* out,
                        std::string* error)
{
    if (!IsValid(error))
    {
        return false;
    }
    try
    {
        const py::object result =
            GetPython().helper["encrypt"](m_impl->Sa(), ToBytes(ipv4Packet), seq, m_impl->gcm);
        FromBytes(result, out);
        return true;
    }
    catch (const std::exception& e)
    {
        return Fail(error, std::string("Scapy encrypt: ") + e.what());
    }
}

} // namespace offloadlab
