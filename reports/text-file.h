// Text a child process wrote (stderr, gtest JSON), read as valid UTF-8: a device can put any
// bytes into a message, and JSON and XML writers need valid text.
#ifndef TEXT_FILE_H
#define TEXT_FILE_H

#include <string>

namespace offloadlab
{

/// Replaces every byte that is not part of a valid UTF-8 sequence with U+FFFD.
std::string SanitizeUtf8(const std::string& text);

/// The whole file as valid UTF-8 ("" when it cannot be read).
std::string ReadTextFile(const std::string& path);

} // namespace offloadlab

#endif // TEXT_FILE_H
