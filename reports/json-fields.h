// Reading the documents defensively: a field a document lacks (an older layout, a run cut short)
// reads as empty or as the default, never as undefined behaviour.
#ifndef JSON_FIELDS_H
#define JSON_FIELDS_H

#include <string>

namespace offloadlab
{

/// j[key] when j is an object that has it, else a null value (no elements, no items).
template <typename Json>
const Json&
Field(const Json& j, const char* key)
{
    static const Json empty;
    if (j.is_object())
    {
        const auto it = j.find(key);
        if (it != j.end())
        {
            return *it;
        }
    }
    return empty;
}

/// j.value(key, fallback) when j is an object, else fallback.
template <typename Json, typename T>
T
ValueOr(const Json& j, const char* key, T fallback)
{
    return j.is_object() ? j.value(key, fallback) : fallback;
}

/// The same for text.
template <typename Json>
std::string
ValueOr(const Json& j, const char* key, const char* fallback)
{
    return j.is_object() ? j.value(key, std::string(fallback)) : std::string(fallback);
}

} // namespace offloadlab

#endif // JSON_FIELDS_H
