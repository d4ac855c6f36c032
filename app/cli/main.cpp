// folio-cli: the command-line face of the Folio engine.

#include "commands.h"

#include <cstdio>
#include <string>
#include <vector>

namespace {

void usage(std::FILE* out) {
    std::fputs("Usage: folio-cli COMMAND [options]\n"
               "\n"
               "Commands:\n"
               "  generate --model DIR (--prompt TEXT | --file PATH) [--chat] [--system TEXT]\n"
               "           [--no-think] [--max-tokens N] [--temperature T] [--top-k K]\n"
               "           [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S]\n"
               "           [--chunk N] [--threads N] [--backend auto|cpu|cuda] [--stats]\n"
               "  check-golden CASE_DIR [--backend auto|cpu|cuda] [--threads N]\n"
               "  tokenize --model DIR (--text T | --file F) [--no-bos]\n"
               "  library (import PATH... [--collection NAME] | list | show ID [--text] |\n"
               "           search QUERY | remove ID | budget ID... --context N) [--db PATH]\n"
               "\n"
               "Run 'folio-cli COMMAND --help' for details.\n",
               out);
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        usage(args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "generate") return folio::cli::runGenerate(args);
    if (command == "check-golden") return folio::cli::runCheckGolden(args);
    if (command == "tokenize") return folio::cli::runTokenize(args);
    if (command == "library") return folio::cli::runLibrary(args);
    std::fprintf(stderr, "folio-cli: unknown command \"%s\"\n\n", command.c_str());
    usage(stderr);
    return 2;
}
