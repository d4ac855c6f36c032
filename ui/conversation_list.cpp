#include "conversation_list.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QPushButton>
#include <QVBoxLayout>

namespace folio {

namespace {

constexpr int kIdRole = Qt::UserRole + 1;
constexpr int kVisibleRows = 4;

} // namespace

ConversationList::ConversationList(QWidget* parent) : QWidget(parent) {
    heading_ = new QLabel(tr("Stored conversations"), this);
    new_ = new QPushButton(tr("New conversation"), this);
    new_->setToolTip(tr("Start a new conversation about the same documents"));
    list_ = new QListWidget(this);
    list_->setUniformItemSizes(true);
    list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    list_->setToolTip(tr("Click a conversation to reopen it; new questions continue it."));
    auto* head = new QHBoxLayout;
    head->addWidget(heading_, 1);
    head->addWidget(new_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(head);
    layout->addWidget(list_);
    connect(new_, &QPushButton::clicked, this, &ConversationList::newRequested);
    // Activation alone would need a double-click; one click is what a history list invites.
    connect(list_, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
        const qint64 id = item->data(kIdRole).toLongLong();
        if (id != current_) emit openRequested(id);
    });
}

void ConversationList::setConversations(const std::vector<Conversation>& conversations,
                                        qint64 current) {
    current_ = current;
    list_->clear();
    const QLocale locale;
    for (const Conversation& c : conversations) {
        const QString when = locale.toString(c.updatedAt.toLocalTime(), QLocale::ShortFormat);
        // The date first: long titles are cut at the end.
        auto* item = new QListWidgetItem(QStringLiteral("%1 — %2").arg(when, c.title), list_);
        item->setData(kIdRole, c.id);
        item->setToolTip(c.title);
        if (c.id == current) {
            QFont bold = item->font();
            bold.setBold(true);
            item->setFont(bold);
            list_->setCurrentItem(item);
        }
    }
    heading_->setText(conversations.empty()
                          ? tr("No stored conversations about these documents yet")
                          : tr("Stored conversations (%1)").arg(conversations.size()));
    list_->setVisible(!conversations.empty());
    // As tall as its rows, up to a few; the messages below need the room more.
    const int rows = qMin(int(conversations.size()), kVisibleRows);
    if (rows > 0)
        list_->setFixedHeight(rows * list_->sizeHintForRow(0) + 2 * list_->frameWidth() + 2);
}

int ConversationList::count() const {
    return list_->count();
}

qint64 ConversationList::idAt(int row) const {
    const QListWidgetItem* item = list_->item(row);
    return item ? item->data(kIdRole).toLongLong() : 0;
}

} // namespace folio
