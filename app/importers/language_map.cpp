#include "language_map.h"

#include <QHash>

namespace folio {

namespace {

const QHash<QString, QString>& byExtension() {
    static const QHash<QString, QString> map{
        {"c", "C"},
        {"h", "C/C++ header"},
        {"cc", "C++"},
        {"cpp", "C++"},
        {"cxx", "C++"},
        {"hpp", "C++"},
        {"hh", "C++"},
        {"hxx", "C++"},
        {"cu", "CUDA"},
        {"cuh", "CUDA"},
        {"py", "Python"},
        {"pyi", "Python"},
        {"rs", "Rust"},
        {"go", "Go"},
        {"java", "Java"},
        {"kt", "Kotlin"},
        {"kts", "Kotlin"},
        {"scala", "Scala"},
        {"swift", "Swift"},
        {"m", "Objective-C"},
        {"mm", "Objective-C++"},
        {"cs", "C#"},
        {"fs", "F#"},
        {"js", "JavaScript"},
        {"mjs", "JavaScript"},
        {"cjs", "JavaScript"},
        {"jsx", "JavaScript"},
        {"ts", "TypeScript"},
        {"tsx", "TypeScript"},
        {"rb", "Ruby"},
        {"php", "PHP"},
        {"pl", "Perl"},
        {"pm", "Perl"},
        {"lua", "Lua"},
        {"r", "R"},
        {"jl", "Julia"},
        {"hs", "Haskell"},
        {"ml", "OCaml"},
        {"mli", "OCaml"},
        {"ex", "Elixir"},
        {"exs", "Elixir"},
        {"erl", "Erlang"},
        {"clj", "Clojure"},
        {"el", "Emacs Lisp"},
        {"lisp", "Lisp"},
        {"scm", "Scheme"},
        {"dart", "Dart"},
        {"zig", "Zig"},
        {"nim", "Nim"},
        {"v", "Verilog"},
        {"sv", "SystemVerilog"},
        {"vhd", "VHDL"},
        {"sh", "Shell"},
        {"bash", "Shell"},
        {"zsh", "Shell"},
        {"fish", "Fish"},
        {"ps1", "PowerShell"},
        {"bat", "Batch"},
        {"cmd", "Batch"},
        {"sql", "SQL"},
        {"html", "HTML"},
        {"htm", "HTML"},
        {"xhtml", "HTML"},
        {"css", "CSS"},
        {"scss", "SCSS"},
        {"less", "Less"},
        {"vue", "Vue"},
        {"svelte", "Svelte"},
        {"json", "JSON"},
        {"jsonc", "JSON"},
        {"yaml", "YAML"},
        {"yml", "YAML"},
        {"toml", "TOML"},
        {"ini", "INI"},
        {"cfg", "INI"},
        {"xml", "XML"},
        {"md", "Markdown"},
        {"markdown", "Markdown"},
        {"rst", "reStructuredText"},
        {"txt", "Text"},
        {"tex", "LaTeX"},
        {"cmake", "CMake"},
        {"mk", "Makefile"},
        {"gradle", "Gradle"},
        {"proto", "Protocol Buffers"},
        {"graphql", "GraphQL"},
        {"glsl", "GLSL"},
        {"hlsl", "HLSL"},
        {"asm", "Assembly"},
        {"s", "Assembly"},
        {"qml", "QML"},
        {"ui", "Qt Designer"},
        {"nix", "Nix"},
        {"tf", "Terraform"},
    };
    return map;
}

const QHash<QString, QString>& byName() {
    static const QHash<QString, QString> map{
        {"makefile", "Makefile"},     {"gnumakefile", "Makefile"}, {"cmakelists.txt", "CMake"},
        {"dockerfile", "Dockerfile"}, {"meson.build", "Meson"},    {"build", "Bazel"},
        {"workspace", "Bazel"},       {"gemfile", "Ruby"},         {"rakefile", "Ruby"},
        {".gitignore", "gitignore"},  {".clang-format", "YAML"},   {"license", "Text"},
    };
    return map;
}

} // namespace

QString LanguageMap::languageOf(const QString& fileName) {
    const QString lower = fileName.toLower();
    if (const auto it = byName().constFind(lower); it != byName().cend()) return *it;
    const qsizetype dot = lower.lastIndexOf(u'.');
    if (dot > 0) {
        if (const auto it = byExtension().constFind(lower.mid(dot + 1)); it != byExtension().cend())
            return *it;
    }
    return QStringLiteral("Text");
}

} // namespace folio
