#include "library_cli.h"

#include "document_store.h"
#include "import_pipeline.h"
#include "importer_registry.h"
#include "library_database.h"
#include "library_location.h"
#include "sala_token_counter.h"
#include "token_budget.h"

#include <QCommandLineParser>

namespace folio {

namespace {

const char* kUsage =
    "usage: folio-cli library <command> [options]\n"
    "  import PATH... [--collection NAME] [--code | --documents] [--password PW]\n"
    "                 [--tokenizer DIR] [--max-file-size BYTES]\n"
    "  list [--collection NAME]\n"
    "  show ID [--text]\n"
    "  search QUERY...\n"
    "  remove ID\n"
    "  budget ID... --context TOKENS [--reserve TOKENS] [--tokenizer DIR]\n"
    "every command takes --db PATH (default: library.sqlite in the data folder of the Folio app's\n"
    "settings, else ~/.local/share/Folio/folio)\n"
    "--tokenizer defaults to $FOLIO_TOKENIZER_DIR; without one, no token counts are made\n";

QString tokenText(qint64 count) {
    return count < 0 ? QStringLiteral("-") : QString::number(count);
}

class LibraryCli {
public:
    LibraryCli(QTextStream& out, QTextStream& err) : out_(out), err_(err) {}
    int run(QStringList args);

private:
    bool parse(QCommandLineParser& parser, const QString& command, const QStringList& args);
    bool openDatabase(const QCommandLineParser& parser);
    bool loadTokenizer(const QCommandLineParser& parser);
    bool parseId(const QString& text, qint64* id);
    int usage(const QString& problem);
    int importPaths(const QCommandLineParser& parser);
    int list(const QCommandLineParser& parser);
    int show(const QCommandLineParser& parser);
    int search(const QCommandLineParser& parser);
    int remove(const QCommandLineParser& parser);
    int budget(const QCommandLineParser& parser);
    void printRecord(const DocumentRecord& doc);

    QTextStream& out_;
    QTextStream& err_;
    std::unique_ptr<LibraryDatabase> db_;
    std::unique_ptr<DocumentStore> store_;
    std::unique_ptr<SalaTokenCounter> counter_;
};

int LibraryCli::usage(const QString& problem) {
    if (!problem.isEmpty()) err_ << "folio-cli library: " << problem << "\n";
    err_ << kUsage;
    err_.flush();
    return 2;
}

bool LibraryCli::parse(QCommandLineParser& parser, const QString& command,
                       const QStringList& args) {
    parser.addOption(
        {QStringLiteral("db"), QStringLiteral("library file"), QStringLiteral("PATH")});
    parser.addOption(
        {QStringLiteral("collection"), QStringLiteral("collection"), QStringLiteral("NAME")});
    parser.addOption(
        {QStringLiteral("password"), QStringLiteral("PDF password"), QStringLiteral("PW")});
    parser.addOption(
        {QStringLiteral("tokenizer"), QStringLiteral("tokenizer folder"), QStringLiteral("DIR")});
    parser.addOption(
        {QStringLiteral("max-file-size"), QStringLiteral("bytes"), QStringLiteral("BYTES")});
    parser.addOption(
        {QStringLiteral("context"), QStringLiteral("tokens"), QStringLiteral("TOKENS")});
    parser.addOption(
        {QStringLiteral("reserve"), QStringLiteral("tokens"), QStringLiteral("TOKENS")});
    parser.addOption({QStringLiteral("code"), QStringLiteral("folders are codebases")});
    parser.addOption({QStringLiteral("documents"), QStringLiteral("folders hold documents")});
    parser.addOption({QStringLiteral("text"), QStringLiteral("print the text")});
    if (!parser.parse(QStringList{QStringLiteral("folio-cli library ") + command} + args)) {
        usage(parser.errorText());
        return false;
    }
    return true;
}

bool LibraryCli::openDatabase(const QCommandLineParser& parser) {
    const QString path = parser.isSet(QStringLiteral("db")) ? parser.value(QStringLiteral("db"))
                                                            : defaultLibraryPath();
    auto db = LibraryDatabase::open(path);
    if (!db) {
        err_ << "folio-cli library: " << QString::fromStdString(db.error().message) << "\n";
        return false;
    }
    db_ = std::move(*db);
    store_ = std::make_unique<DocumentStore>(*db_);
    return true;
}

bool LibraryCli::loadTokenizer(const QCommandLineParser& parser) {
    QString dir = parser.value(QStringLiteral("tokenizer"));
    if (dir.isEmpty()) dir = qEnvironmentVariable("FOLIO_TOKENIZER_DIR");
    if (dir.isEmpty()) return true;
    auto counter = SalaTokenCounter::load(dir);
    if (!counter) {
        err_ << "folio-cli library: tokenizer " << dir << ": "
             << QString::fromStdString(counter.error().message) << "\n";
        return false;
    }
    counter_ = std::move(*counter);
    return true;
}

bool LibraryCli::parseId(const QString& text, qint64* id) {
    bool ok = false;
    *id = text.toLongLong(&ok);
    if (!ok || *id <= 0) {
        err_ << "folio-cli library: '" << text << "' is not a document id\n";
        return false;
    }
    return true;
}

int LibraryCli::run(QStringList args) {
    if (!args.isEmpty() && args.first() == QStringLiteral("library")) args.removeFirst();
    if (args.isEmpty()) return usage(QStringLiteral("no command given"));
    const QString command = args.takeFirst();
    using Handler = int (LibraryCli::*)(const QCommandLineParser&);
    const QHash<QString, Handler> handlers{
        {QStringLiteral("import"), &LibraryCli::importPaths},
        {QStringLiteral("list"), &LibraryCli::list},
        {QStringLiteral("show"), &LibraryCli::show},
        {QStringLiteral("search"), &LibraryCli::search},
        {QStringLiteral("remove"), &LibraryCli::remove},
        {QStringLiteral("budget"), &LibraryCli::budget},
    };
    if (command == QStringLiteral("help") || command == QStringLiteral("--help")) {
        out_ << kUsage;
        return 0;
    }
    if (!handlers.contains(command))
        return usage(QStringLiteral("unknown command '%1'").arg(command));
    QCommandLineParser parser;
    if (!parse(parser, command, args)) return 2;
    if (!openDatabase(parser)) return 1;
    const int code = (this->*handlers.value(command))(parser);
    out_.flush();
    err_.flush();
    return code;
}

int LibraryCli::importPaths(const QCommandLineParser& parser) {
    const QStringList paths = parser.positionalArguments();
    if (paths.isEmpty()) return usage(QStringLiteral("import needs at least one path"));
    if (parser.isSet(QStringLiteral("code")) && parser.isSet(QStringLiteral("documents")))
        return usage(QStringLiteral("--code and --documents exclude each other"));
    if (!loadTokenizer(parser)) return 1;
    PipelineOptions options;
    options.collection = parser.value(QStringLiteral("collection"));
    options.import.password = parser.value(QStringLiteral("password"));
    if (parser.isSet(QStringLiteral("code")))
        options.folderMode = PipelineOptions::FolderMode::Codebase;
    if (parser.isSet(QStringLiteral("documents")))
        options.folderMode = PipelineOptions::FolderMode::Documents;
    if (parser.isSet(QStringLiteral("max-file-size"))) {
        bool ok = false;
        const qint64 bytes = parser.value(QStringLiteral("max-file-size")).toLongLong(&ok);
        if (!ok || bytes <= 0)
            return usage(QStringLiteral("--max-file-size needs a positive number"));
        options.import.limits.maxFileBytes = bytes;
        options.import.limits.maxCodeFileBytes = bytes;
    }
    ImporterRegistry registry;
    ImportPipeline pipeline(*store_, registry, counter_.get());
    const ImportSummary summary =
        pipeline.run(paths, options, ImportControl(), [&](const ImportItem& item) {
            QTextStream& stream = item.outcome == ImportItem::Outcome::Failed ? err_ : out_;
            stream << outcomeName(item.outcome);
            if (item.documentId > 0) stream << " #" << item.documentId;
            stream << " " << item.path;
            if (!item.message.isEmpty()) stream << ": " << item.message;
            stream << "\n";
            for (const QString& warning : item.warnings) stream << "  warning: " << warning << "\n";
        });
    out_ << QStringLiteral("%1 added, %2 updated, %3 unchanged, %4 duplicate(s), %5 failed, "
                           "%6 missing, %7 skipped\n")
                .arg(summary.added)
                .arg(summary.updated)
                .arg(summary.unchanged)
                .arg(summary.duplicates)
                .arg(summary.failed)
                .arg(summary.missing)
                .arg(summary.skipped);
    return summary.failed > 0 || summary.cancelled ? 1 : 0;
}

int LibraryCli::list(const QCommandLineParser& parser) {
    auto docs = store_->list(parser.value(QStringLiteral("collection")));
    if (!docs) {
        err_ << QString::fromStdString(docs.error().message) << "\n";
        return 1;
    }
    for (const DocumentRecord& doc : *docs)
        out_ << QStringLiteral("%1\t%2\t%3\t%4 tokens\t%5\t%6\n")
                    .arg(doc.id)
                    .arg(statusName(doc.status), doc.kind, tokenText(doc.tokenCount), doc.title,
                         doc.sourcePath);
    return 0;
}

void LibraryCli::printRecord(const DocumentRecord& doc) {
    out_ << "id:          " << doc.id << "\n"
         << "title:       " << doc.title << "\n"
         << "author:      " << doc.author << "\n"
         << "kind:        " << doc.kind << "\n"
         << "source:      " << doc.sourcePath << "\n"
         << "collection:  " << doc.collection << "\n"
         << "size:        " << doc.sizeBytes << " bytes, " << doc.charCount << " characters\n"
         << "tokens:      " << tokenText(doc.tokenCount)
         << (doc.tokenizer.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(doc.tokenizer))
         << "\n"
         << "sha256:      " << doc.contentHash << "\n"
         << "imported:    " << doc.importedAt.toLocalTime().toString(Qt::ISODate) << "\n"
         << "status:      " << statusName(doc.status) << "\n";
    if (!doc.error.isEmpty()) out_ << "error:       " << doc.error << "\n";
}

int LibraryCli::show(const QCommandLineParser& parser) {
    if (parser.positionalArguments().size() != 1) return usage(QStringLiteral("show needs one id"));
    qint64 id = 0;
    if (!parseId(parser.positionalArguments().first(), &id)) return 2;
    auto doc = store_->document(id);
    if (!doc || !*doc) {
        err_ << "folio-cli library: no document #" << id << "\n";
        return 1;
    }
    if (parser.isSet(QStringLiteral("text"))) {
        auto text = store_->text(id);
        if (!text) return 1;
        out_ << *text;
        if (!text->endsWith(u'\n')) out_ << "\n";
        return 0;
    }
    printRecord(**doc);
    auto chapters = store_->chapters(id);
    if (chapters && !chapters->empty()) out_ << "chapters:\n";
    for (const Chapter& c : chapters ? *chapters : std::vector<Chapter>())
        out_ << QString(2 * c.level, u' ') << c.title << "  @" << c.charStart << "\n";
    auto files = store_->files(id);
    if (files && !files->empty()) out_ << "files:\n";
    for (const FileEntry& f : files ? *files : std::vector<FileEntry>())
        out_ << "  " << f.path << " (" << f.language << ", " << tokenText(f.tokenCount)
             << " tokens)\n";
    auto warnings = store_->warnings(id);
    for (const QString& w : warnings ? *warnings : QStringList()) out_ << "warning: " << w << "\n";
    return 0;
}

int LibraryCli::search(const QCommandLineParser& parser) {
    const QString query = parser.positionalArguments().join(u' ');
    if (query.trimmed().isEmpty()) return usage(QStringLiteral("search needs a query"));
    auto hits = store_->search(query, 50);
    if (!hits) {
        err_ << QString::fromStdString(hits.error().message) << "\n";
        return 1;
    }
    for (const SearchHit& hit : *hits)
        out_ << hit.documentId << "\t" << hit.title << "\t" << hit.snippet << "\n";
    if (hits->empty()) out_ << "no match\n";
    return 0;
}

int LibraryCli::remove(const QCommandLineParser& parser) {
    if (parser.positionalArguments().size() != 1)
        return usage(QStringLiteral("remove needs one id"));
    qint64 id = 0;
    if (!parseId(parser.positionalArguments().first(), &id)) return 2;
    auto removed = store_->remove(id);
    if (!removed || !*removed) {
        err_ << "folio-cli library: "
             << (removed ? QStringLiteral("no document #%1").arg(id)
                         : QString::fromStdString(removed.error().message))
             << "\n";
        return 1;
    }
    out_ << "removed #" << id << "\n";
    return 0;
}

int LibraryCli::budget(const QCommandLineParser& parser) {
    bool ok = false;
    const qint64 capacity = parser.value(QStringLiteral("context")).toLongLong(&ok);
    if (!ok || capacity <= 0) return usage(QStringLiteral("budget needs --context TOKENS"));
    const qint64 reserve = parser.value(QStringLiteral("reserve")).toLongLong();
    if (!loadTokenizer(parser)) return 1;
    std::vector<DocumentRecord> docs;
    for (const QString& arg : parser.positionalArguments()) {
        qint64 id = 0;
        if (!parseId(arg, &id)) return 2;
        auto doc = store_->document(id);
        if (!doc || !*doc) {
            err_ << "folio-cli library: no document #" << id << "\n";
            return 1;
        }
        docs.push_back(**doc);
    }
    if (docs.empty()) return usage(QStringLiteral("budget needs document ids"));
    const BudgetReport report =
        TokenBudget::check(docs, capacity, reserve, counter_ ? counter_->name() : QString());
    out_ << QStringLiteral("%1 tokens of %2 (reserve %3): %4\n")
                .arg(report.used)
                .arg(report.capacity)
                .arg(report.reserved)
                .arg(report.fits ? QStringLiteral("fits, %1 to spare").arg(report.remaining())
                     : report.uncounted > 0
                         ? QStringLiteral("%1 document(s) not counted with this tokenizer")
                               .arg(report.uncounted)
                         : QStringLiteral("does not fit, %1 over").arg(-report.remaining()));
    return report.fits ? 0 : 1;
}

} // namespace

int runLibraryCommand(const QStringList& args, QTextStream& out, QTextStream& err) {
    LibraryCli cli(out, err);
    return cli.run(args);
}

} // namespace folio
