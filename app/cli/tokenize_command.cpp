#include "cli_args.h"
#include "commands.h"

#include "file_util.h"
#include "tokenizer.h"

#include <cstdio>

namespace folio::cli {

int runTokenize(const std::vector<std::string>& argv) {
    Args args(argv, {"model", "text", "file"});
    if (args.has("help")) {
        std::puts("Usage: folio-cli tokenize --model DIR (--text T | --file F) [--no-bos]\n"
                  "Prints the token ids of the text, separated by spaces. DIR may be a model\n"
                  "folder or a folder holding only the tokenizer files. BOS is included unless\n"
                  "--no-bos is given.");
        return 0;
    }
    const auto model = args.value("model");
    const auto text = args.value("text");
    const auto file = args.value("file");
    if (!args.ok() || !model || text.has_value() == file.has_value()) {
        std::fprintf(stderr, "tokenize: %s\n",
                     args.ok() ? "needs --model DIR and one of --text or --file"
                               : args.error().c_str());
        return 2;
    }
    std::string input;
    if (file) {
        auto content = sala::readTextFile(*file);
        if (!content) {
            std::fprintf(stderr, "tokenize: %s\n", content.error().message.c_str());
            return 1;
        }
        input = std::move(content).value();
    } else {
        input = *text;
    }
    auto tokenizer = sala::Tokenizer::load(*model);
    if (!tokenizer) {
        std::fprintf(stderr, "tokenize: %s\n", tokenizer.error().message.c_str());
        return 1;
    }
    const std::vector<int> ids = tokenizer->encode(input, !args.has("no-bos"));
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) line += ' ';
        line += std::to_string(ids[i]);
    }
    std::printf("%s\n", line.c_str());
    return 0;
}

} // namespace folio::cli
