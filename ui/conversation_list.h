#pragma once
// The stored conversations about the chat's documents, most recent first, with "New": choosing
// one asks the chat panel to reopen it.

#include "library_records.h"

#include <QWidget>

#include <vector>

class QLabel;
class QListWidget;
class QPushButton;

namespace folio {

class ConversationList : public QWidget {
    Q_OBJECT
public:
    explicit ConversationList(QWidget* parent = nullptr);

    // Shows `conversations`; `current` (0: none) is marked as the one open.
    void setConversations(const std::vector<Conversation>& conversations, qint64 current);
    int count() const;
    qint64 idAt(int row) const;
    qint64 currentId() const { return current_; }
    QListWidget* list() const { return list_; }
    QPushButton* newButton() const { return new_; }

signals:
    void openRequested(qint64 id);
    void newRequested();

private:
    QLabel* heading_;
    QListWidget* list_;
    QPushButton* new_;
    qint64 current_ = 0;
};

} // namespace folio
