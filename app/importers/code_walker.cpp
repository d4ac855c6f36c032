#include "code_walker.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>

#include <algorithm>

namespace folio {

bool CodeWalker::walk(const Visitor& visit, const ImportControl& control) {
    rules_.clear();
    activeDirectories_.clear();
    warnings_.clear();
    const QString exclude = root_ + QStringLiteral("/.git/info/exclude");
    if (QFileInfo::exists(exclude)) rules_.push_back(IgnoreRules::load(exclude, QString()));
    return walkDirectory(root_, QString(), 0, visit, control);
}

bool CodeWalker::isIgnored(const QString& relative, bool isDirectory) const {
    // Deeper files override shallower ones; the first file with a matching pattern decides.
    for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
        const IgnoreRules::Verdict verdict = it->match(relative, isDirectory);
        if (verdict != IgnoreRules::Verdict::Unmatched)
            return verdict == IgnoreRules::Verdict::Ignored;
    }
    return false;
}

bool CodeWalker::walkDirectory(const QString& absolute, const QString& relative, int depth,
                               const Visitor& visit, const ImportControl& control) {
    const QString canonical = QFileInfo(absolute).canonicalFilePath();
    if (activeDirectories_.contains(canonical)) {
        warnings_ << QStringLiteral("%1: symbolic link loop, not followed").arg(relative);
        return true;
    }
    QDir dir(absolute);
    if (!dir.isReadable()) {
        warnings_ << QStringLiteral("%1: directory cannot be read")
                         .arg(relative.isEmpty() ? absolute : relative);
        return true;
    }
    activeDirectories_.insert(canonical);
    const size_t rulesBefore = rules_.size();
    const QString ignoreFile = absolute + QStringLiteral("/.gitignore");
    if (QFileInfo::exists(ignoreFile)) rules_.push_back(IgnoreRules::load(ignoreFile, relative));

    QStringList names;
    QDirIterator it(absolute,
                    QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System);
    while (it.hasNext()) names << it.nextFileInfo().fileName();
    std::sort(names.begin(), names.end());

    bool keepGoing = true;
    for (const QString& name : std::as_const(names)) {
        if (control.cancelled()) {
            keepGoing = false;
            break;
        }
        if (name == QStringLiteral(".git")) continue;
        const QString childAbsolute = absolute + u'/' + name;
        const QString childRelative = relative.isEmpty() ? name : relative + u'/' + name;
        const QFileInfo info(childAbsolute);
        if (info.isSymLink() && !info.exists()) {
            warnings_ << QStringLiteral("%1: broken symbolic link").arg(childRelative);
            continue;
        }
        const bool isDirectory = info.isDir();
        if (isIgnored(childRelative, isDirectory)) continue;
        WalkEntry entry{childAbsolute, childRelative, depth, isDirectory,
                        isDirectory ? 0 : info.size()};
        if (!isDirectory && !info.isFile()) continue; // sockets, fifos, devices
        if (!visit(entry)) {
            keepGoing = false;
            break;
        }
        if (isDirectory &&
            !walkDirectory(childAbsolute, childRelative, depth + 1, visit, control)) {
            keepGoing = false;
            break;
        }
    }
    rules_.resize(rulesBefore);
    activeDirectories_.remove(canonical);
    return keepGoing;
}

} // namespace folio
