// --time budgets: "10m", "90s", "1h30m", "45" (seconds).
#include <cctype>
#include <string>

#include "core/error.h"
#include "tune/tune.h"

namespace m1c::tune {

double parse_duration(const std::string &text) {
    double total = 0;
    size_t i = 0;
    bool any = false;
    while (i < text.size()) {
        size_t j = i;
        while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
        if (j == i || j - i > 12) throw Error("--time \"" + text + "\": expected e.g. 10m, 90s, 1h30m");
        const double v = std::stod(text.substr(i, j - i));
        double unit = 1;
        if (j < text.size()) {
            const char u = text[j++];
            if (u == 'h') unit = 3600;
            else if (u == 'm') unit = 60;
            else if (u == 's') unit = 1;
            else throw Error("--time \"" + text + "\": unknown unit '" + std::string(1, u) + "' (h, m, s)");
        }
        total += v * unit;
        any = true;
        i = j;
    }
    if (!any || total <= 0 || total > 30 * 24 * 3600.0)
        throw Error("--time \"" + text + "\": expected a positive duration, e.g. 10m");
    return total;
}

}  // namespace m1c::tune
