#pragma once
// The patterns of one .gitignore-format file, parsed and matched the way git does.

#include <QByteArray>
#include <QString>

#include <vector>

namespace folio {

class IgnoreRules {
public:
    enum class Verdict { Unmatched, Ignored, Included };

    // `base` is the directory of the file relative to the walk root ("" for the root itself);
    // its patterns apply to paths below it.
    static IgnoreRules parse(const QByteArray& content, const QString& base);
    static IgnoreRules load(const QString& file, const QString& base);

    // `path` is relative to the walk root, '/'-separated. The last matching pattern decides.
    Verdict match(const QString& path, bool isDirectory) const;
    bool isEmpty() const { return patterns_.empty(); }

private:
    struct Pattern {
        QByteArray glob;
        bool negated = false;
        bool directoryOnly = false;
        bool basenameOnly = false; // no '/' in the pattern: matches a name at any depth
    };

    static void addLine(QByteArray line, std::vector<Pattern>& out);

    QByteArray base_;
    std::vector<Pattern> patterns_;
};

} // namespace folio
