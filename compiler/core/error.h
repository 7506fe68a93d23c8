// m1c's single error type. Every reader and pass reports a bad input by throwing
// m1c::Error with a message that names the file (or key) and what is wrong; the CLI
// catches it at the top, prints it and exits non-zero. Nothing else is thrown on purpose.
#pragma once
#include <stdexcept>
#include <string>

namespace m1c {

struct Error : std::runtime_error {
    explicit Error(const std::string &message) : std::runtime_error(message) {}
};

}  // namespace m1c
