#include "text-file.h"

#include <cstdint>
#include <fstream>
#include <sstream>

namespace offloadlab
{

std::string
SanitizeUtf8(const std::string& text)
{
    std::string out;
    out.reserve(text.size());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n)
    {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t len = 0;
        uint32_t min = 0;
        if (c < 0x80)
        {
            out += text[i++];
            continue;
        }
        else if ((c & 0xe0) == 0xc0)
        {
            len = 2;
            min = 0x80;
        }
        else if ((c & 0xf0) == 0xe0)
        {
            len = 3;
            min = 0x800;
        }
        else if ((c & 0xf8) == 0xf0)
        {
            len = 4;
            min = 0x10000;
        }
        bool valid = len != 0 && i + len <= n;
        uint32_t cp = len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
        for (size_t k = 1; valid && k < len; ++k)
        {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            valid = (cc & 0xc0) == 0x80;
            cp = (cp << 6) | (cc & 0x3f);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
        valid = valid && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        if (valid)
        {
            out.append(text, i, len);
            i += len;
        }
        else
        {
            out += "\xef\xbf\xbd";
            ++i;
        }
    }
    return out;
}

std::string
ReadTextFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        return "";
    }
    std::stringstream text;
    text << in.rdbuf();
    return SanitizeUtf8(text.str());
}

} // namespace offloadlab
