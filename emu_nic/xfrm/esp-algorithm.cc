#include "esp-algorithm.h"

#include <sstream>

namespace ns3
{

namespace
{

bool
Fail(std::string* error, const std::string& message)
{
    if (error != nullptr)
    {
        *error = message;
    }
    return false;
}

std::string
SizeMessage(const char* field, size_t size, const char* expected)
{
    std::ostringstream os;
    os << field << ": " << size << " bytes, expected " << expected;
    return os.str();
}

} // namespace

std::string
EspAlgorithm::EncName() const
{
    return suite == Suite::AesGcm ? "rfc4106(gcm(aes))" : "cbc(aes)";
}

std::string
EspAlgorithm::AuthName() const
{
    return suite == Suite::AesGcm ? "" : "hmac(sha256)";
}

bool
EspAlgorithm::Validate(std::string* error) const
{
    if (suite != Suite::AesGcm && suite != Suite::AesCbcSha256)
    {
        std::ostringstream os;
        os << "suite: " << static_cast<unsigned>(suite) << ", expected AesGcm or AesCbcSha256";
        return Fail(error, os.str());
    }
    if (encKey.size() != 16 && encKey.size() != 32)
    {
        return Fail(error, SizeMessage("encKey", encKey.size(), "16 or 32"));
    }
    if (suite == Suite::AesGcm)
    {
        if (salt.size() != 4)
        {
            return Fail(error, SizeMessage("salt", salt.size(), "4 for rfc4106(gcm(aes))"));
        }
        // A key here means the caller mixed up suites: refuse rather than ignore it.
        if (!authKey.empty())
        {
            return Fail(error, SizeMessage("authKey", authKey.size(), "0 for rfc4106(gcm(aes))"));
        }
    }
    else
    {
        if (authKey.size() != 32)
        {
            return Fail(error, SizeMessage("authKey", authKey.size(), "32 for hmac(sha256)"));
        }
        if (!salt.empty())
        {
            return Fail(error, SizeMessage("salt", salt.size(), "0 for cbc(aes)"));
        }
    }
    if (icvBits != 128)
    {
        std::ostringstream os;
        os << "icvBits: " << icvBits << ", expected 128";
        return Fail(error, os.str());
    }
    return true;
}

EspAlgorithm
EspAlgorithm::Gcm(const std::vector<uint8_t>& keyAndSalt, uint32_t icvBits)
{
    EspAlgorithm algorithm;
    algorithm.suite = Suite::AesGcm;
    algorithm.icvBits = icvBits;
    // Linux's blob is key || salt; a blob too short for a salt is left for Validate to name.
    if (keyAndSalt.size() >= 4)
    {
        algorithm.encKey.assign(keyAndSalt.begin(), keyAndSalt.end() - 4);
        algorithm.salt.assign(keyAndSalt.end() - 4, keyAndSalt.end());
    }
    else
    {
        algorithm.encKey = keyAndSalt;
    }
    return algorithm;
}

EspAlgorithm
EspAlgorithm::CbcSha256(const std::vector<uint8_t>& encKey, const std::vector<uint8_t>& authKey)
{
    EspAlgorithm algorithm;
    algorithm.suite = Suite::AesCbcSha256;
    algorithm.encKey = encKey;
    algorithm.authKey = authKey;
    return algorithm;
}

} // namespace ns3
