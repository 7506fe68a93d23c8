// m1c: compiles MobileOne checkpoints to static libraries. Subcommands live in cmd_*.cpp.
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "core/error.h"

int main(int argc, char **argv) {
    CLI::App app{"m1c: the MobileOne compiler (checkpoint -> folded graph -> Halide -> static library)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "m1c 0.1.0");
    for (const auto &setup : m1c::cli::registered_commands()) setup(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        // --help and --version exit 0; a usage error exits 2 (bad input data exits 1).
        return app.exit(e) == 0 ? 0 : 2;
    } catch (const m1c::Error &e) {
        std::cerr << "m1c: error: " << e.what() << "\n";
        return 1;
    } catch (const std::bad_alloc &) {
        std::cerr << "m1c: error: out of memory\n";
        return 1;
    } catch (const std::exception &e) {
        // Not expected: every bad input should surface as m1c::Error. Still no crash.
        std::cerr << "m1c: internal error: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
