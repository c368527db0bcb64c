#pragma once
/// @file
/// Text helpers for messages about bad input: a bounded, printable excerpt of any bytes.

#include <cstddef>
#include <string>
#include <string_view>

namespace parsl {

/// `text` for an error message: at most about `max` bytes of it, control characters and
/// bytes that are not UTF-8 shown as `\xNN`, and, when it was cut, its full length. So a
/// message that quotes a value stays short whatever the value is. Thread-safe.
///
/// @code
///   throw ConfigError("unknown option " + parsl::excerpt(arg));
/// @endcode
std::string excerpt(std::string_view text, std::size_t max = 60);

/// Length of the UTF-8 sequence that starts at `text[i]` (1 to 4), or 0 when the bytes there
/// are not well-formed UTF-8 (overlong forms, surrogates and values past U+10FFFF included).
std::size_t utf8_length(std::string_view text, std::size_t i);

}  // namespace parsl
