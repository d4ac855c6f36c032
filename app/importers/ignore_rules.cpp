#include "ignore_rules.h"

#include "wildmatch.h"

#include <QFile>

namespace folio {

IgnoreRules IgnoreRules::parse(const QByteArray& content, const QString& base) {
    IgnoreRules rules;
    rules.base_ = base.toUtf8();
    QByteArray text = content;
    if (text.startsWith("\xEF\xBB\xBF")) text.remove(0, 3);
    for (const QByteArray& line : text.split('\n')) addLine(line, rules.patterns_);
    return rules;
}

IgnoreRules IgnoreRules::load(const QString& file, const QString& base) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return parse({}, base);
    // An ignore file is small; a huge one is read only as far as git would ever need.
    return parse(f.read(1 << 20), base);
}

void IgnoreRules::addLine(QByteArray line, std::vector<Pattern>& out) {
    if (line.endsWith('\r')) line.chop(1);
    if (line.isEmpty() || line.startsWith('#')) return;
    // Trailing spaces go unless the last one is escaped with a backslash.
    qsizetype end = line.size();
    while (end > 0 && line[end - 1] == ' ') {
        qsizetype backslashes = 0;
        for (qsizetype i = end - 2; i >= 0 && line[i] == '\\'; --i) ++backslashes;
        if (backslashes % 2 == 1) break;
        --end;
    }
    line.truncate(end);
    Pattern pattern;
    if (line.startsWith('!')) {
        pattern.negated = true;
        line.remove(0, 1);
    }
    if (line.endsWith('/')) {
        pattern.directoryOnly = true;
        line.chop(1);
    }
    if (line.isEmpty()) return;
    pattern.basenameOnly = !line.contains('/');
    if (line.startsWith('/')) line.remove(0, 1);
    // A pattern ending in an unpaired backslash is invalid and never matches, as in git.
    qsizetype backslashes = 0;
    for (qsizetype i = line.size() - 1; i >= 0 && line[i] == '\\'; --i) ++backslashes;
    if (backslashes % 2 == 1) return;
    pattern.glob = line;
    out.push_back(std::move(pattern));
}

IgnoreRules::Verdict IgnoreRules::match(const QString& path, bool isDirectory) const {
    const QByteArray full = path.toUtf8();
    QByteArray relative = full;
    if (!base_.isEmpty()) {
        if (!full.startsWith(base_ + '/')) return Verdict::Unmatched;
        relative = full.mid(base_.size() + 1);
    }
    const qsizetype slash = relative.lastIndexOf('/');
    const QByteArray name = slash >= 0 ? relative.mid(slash + 1) : relative;
    for (auto it = patterns_.rbegin(); it != patterns_.rend(); ++it) {
        if (it->directoryOnly && !isDirectory) continue;
        const bool hit = Wildmatch::match(it->glob, it->basenameOnly ? name : relative);
        if (hit) return it->negated ? Verdict::Included : Verdict::Ignored;
    }
    return Verdict::Unmatched;
}

} // namespace folio
