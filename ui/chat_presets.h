#pragma once
// The preset questions offered above the chat input: for documents "Summarize" and "Outline the
// chapters", for codebases "Explain the architecture" and "Summarize each module".

#include <QList>
#include <QString>
#include <QStringList>

namespace folio {

struct ChatPreset {
    QString name;   // the button's text
    QString prompt; // the question it sends
};

// The presets for a chat whose documents have these kinds ("code" for a codebase); a mixed
// selection gets both sets, an empty one the document set.
QList<ChatPreset> chatPresets(const QStringList& kinds);

} // namespace folio
