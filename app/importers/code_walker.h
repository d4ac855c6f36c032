#pragma once
// Walks a folder the way git sees it: .gitignore files at every level, .git/info/exclude at the
// root, the .git folder itself skipped. Entries come in a stable order (code-point order of the
// names, per directory); symbolic links are followed unless they lead back into a folder being
// walked (a loop). Only one directory listing is held at a time.

#include "ignore_rules.h"
#include "import_options.h"

#include <QSet>
#include <QStringList>

#include <functional>
#include <vector>

namespace folio {

struct WalkEntry {
    QString absolutePath;
    QString relativePath; // '/'-separated, relative to the root
    int depth = 0;        // 0 for the root's own entries
    bool isDirectory = false;
    qint64 size = 0;
};

class CodeWalker {
public:
    // Returns false to stop the walk.
    using Visitor = std::function<bool(const WalkEntry&)>;

    explicit CodeWalker(QString root) : root_(std::move(root)) {}

    // Visits every directory (before its contents) and every file that is not ignored.
    // Returns false when the visitor or the control stopped the walk.
    bool walk(const Visitor& visit, const ImportControl& control);
    const QStringList& warnings() const { return warnings_; }

private:
    bool walkDirectory(const QString& absolute, const QString& relative, int depth,
                       const Visitor& visit, const ImportControl& control);
    bool isIgnored(const QString& relative, bool isDirectory) const;

    QString root_;
    std::vector<IgnoreRules> rules_;  // root exclude file first, deeper .gitignore files last
    QSet<QString> activeDirectories_; // canonical paths of the directories being walked
    QStringList warnings_;
};

} // namespace folio
