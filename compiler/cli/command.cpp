#include "cli/command.h"

#include <algorithm>

namespace m1c::cli {
namespace {
std::vector<std::pair<int, CommandSetup>> &registry() {
    static std::vector<std::pair<int, CommandSetup>> r;
    return r;
}
}  // namespace

CommandRegistration::CommandRegistration(int order, CommandSetup setup) {
    registry().emplace_back(order, std::move(setup));
}

std::vector<CommandSetup> registered_commands() {
    auto entries = registry();
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    std::vector<CommandSetup> setups;
    for (auto &e : entries) setups.push_back(e.second);
    return setups;
}

}  // namespace m1c::cli
