"""Every text the bot says, in Simplified Chinese and English: as HTML, or as plain text.

Telegram parses a message's text and caption as HTML, and shows button labels, callback alerts
and invoice fields as written. So `say()` renders HTML (`markupsafe.Markup`), escaping each value
it fills in (product names, keys, user text) unless it is already Markup, and `say_plain()`
renders plain text, escaping nothing. The actions take one or the other (handlers.action).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import TypeVar

from markupsafe import Markup, escape

from store.domain.model import Language

__all__ = [
    "TEXTS",
    "Markup",
    "escape",
    "fitted",
    "say",
    "say_plain",
    "shorten",
    "visible_length",
]

_TAG = re.compile(r"<[^>]*>")
_HTML = re.compile(r"<[a-zA-Z/][^>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);")
"""A tag or an entity: what a template meant as HTML, which plain text would show as typed."""
Rendered = TypeVar("Rendered", str, Markup)


def shorten(text: str, limit: int, *, whole_words: bool = False) -> str:
    """Plain text cut to at most `limit` characters, "…" marking the cut, for `say` to escape.

    Cutting before escaping never leaves half an entity (`&am`) or a tag; Markup is refused for
    that reason. Characters are counted as UTF-16 code units (an emoji is two), which is never
    fewer than Telegram counts, so a shortened text is safe under its limits either way.
    With `whole_words`, a cut falls between words (a name reads "Steam Wallet…", never
    "Steam Wal…"), unless the first word alone is too long.
    """
    cut = _shorten(text, limit)
    if not whole_words or cut == text:
        return cut
    kept = cut[:-1]
    if text[len(kept)].isspace():
        return kept.rstrip() + "…"
    head, space, _ = kept.rpartition(" ")
    return head.rstrip() + "…" if space and head.strip() else cut


def _shorten(text: str, limit: int) -> str:
    if isinstance(text, Markup):
        raise TypeError("shorten plain text before it is escaped, not Markup")
    if len(text) <= limit // 2 or _utf16_length(text) <= limit:
        return text
    kept: list[str] = []
    used = 1  # the ellipsis
    for character in text:
        used += 2 if ord(character) > 0xFFFF else 1
        if used > limit:
            break
        kept.append(character)
    return "".join(kept) + "…"


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


TEXTS: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "welcome": (
        "👋 你好，{name}！欢迎来到 <b>{shop}</b>。\n付款后卡密自动发送，几秒即达。\n有问题直接发消息提问，或发送“人工”联系客服。请选择：",
        "👋 Hi {name}, welcome to <b>{shop}</b>.\nPay and your key arrives in seconds.\nQuestions? Just type your question, or send 人工 (or “human”) for a person. Choose:",
    ),
    "menu.shop": ("🛒 商城", "🛒 Shop"),
    "menu.orders": ("📦 我的订单", "📦 My orders"),
    "menu.wallet": ("💰 余额", "💰 Wallet"),
    "menu.help": ("❓ 帮助", "❓ Help"),
    "menu.support": ("🙋 联系客服", "🙋 Contact support"),
    "bot.description": (
        "欢迎来到 {shop}：游戏点卡、会员卡、软件激活码。\n用 Telegram Stars 或余额付款，卡密几秒自动送达，随时可在“我的订单”里再次查看。\n有问题直接发消息提问，或发送“人工”联系客服。\n点击下方“开始”进入商城。",
        "Welcome to {shop}: game cards, memberships and licence keys.\nPay with Telegram Stars or your wallet and your key arrives in seconds; find it again any time under My orders.\nQuestions? Just type them, or send 人工 (or “human”) for a person.\nPress Start to open the shop.",
    ),
    "bot.short_description": (
        "{shop}：游戏点卡与激活码，Stars 付款，卡密秒发。有问题发“人工”。",
        "{shop}: game cards and licence keys, paid in Stars, delivered in seconds.",
    ),
    "menu.back": ("⬅️ 返回", "⬅️ Back"),
    "menu.home": ("🏠 主菜单", "🏠 Main menu"),
    "nav.prev": ("◀️ 上一页", "◀️ Prev"),
    "nav.next": ("下一页 ▶️", "Next ▶️"),
    "help": (
        "<b>如何购买</b>\n1. 商城 → 选择分类和商品\n2. 选择数量，卡密为您保留 {minutes} 分钟\n"
        "3. 用 Telegram Stars ⭐ 或余额付款\n4. 点击“查看卡密”获取卡密\n\n"
        "<b>有问题？</b>直接发消息提问，或发送“人工”联系客服。\n\n"
        "命令：/shop 商城 · /orders 订单 · /wallet 余额 · /language 语言 · /paysupport 付款问题 · /terms 条款",
        "<b>How to buy</b>\n1. Shop → pick a category and a product\n2. Choose a quantity; the keys "
        "are held for you for {minutes} minutes\n3. Pay with Telegram Stars ⭐ or your wallet\n"
        "4. Press “Show keys” to get them\n\n<b>Questions?</b> Just type your question, or send 人工 "
        "(or “human”) for a person.\n\nCommands: /shop · /orders · /wallet · /language · "
        "/paysupport · /terms",
    ),
    "help.agent": (
        "<b>客服命令</b>\n/duty on|off 上线/下线 · /next 接入下一位 · /tickets 我的会话 · /note 私人备注 · /reply FAQ编号 快捷回复 · /transfer 客服ID|queue 转接 · /close 结束 · /alias 名字 对买家显示的客服名",
        "<b>Agent commands</b>\n/duty on|off · /next (take the next buyer) · /tickets (yours) · /note (private) · /reply FAQ_ID (canned answer) · /transfer AGENT_ID|queue · /close · /alias NAME (the name buyers see)",
    ),
    "help.admin": (
        "<b>管理员命令</b>\n/stock 库存 · /stats 今日数据 · 发送卡密文件并附说明 /import SKU 导入卡密",
        "<b>Admin commands</b>\n/stock (stock levels) · /stats (today's figures) · send a key file captioned /import SKU to import keys",
    ),
    "language.choose": ("请选择语言 / Choose a language:", "Choose a language / 请选择语言:"),
    "language.set": ("✅ 已切换为简体中文。", "✅ Language set to English."),
    "paysupport": (
        "<b>付款支持</b>\n付款或到账问题，点下方“联系客服”直接在这里和客服沟通，或联系 {contact}，请附上订单号。"
        "未查看的卡密可申请退款；Stars 付款将原路退回。",
        "<b>Payment support</b>\nFor any problem with a payment or a delivery, press “Contact "
        "support” below to talk to a person right here, or contact {contact}, with your order "
        "number. Keys you have not revealed can be refunded; Stars go back to your Telegram balance.",
    ),
    "terms": (
        "<b>服务条款</b>\n1. 商品为数字商品（卡密），付款后自动发放。\n2. 未查看的卡密可退款；"
        "已查看的卡密如无法使用，请联系客服处理。\n3. 价格以商品页面为准，以 Telegram Stars 或余额支付。\n"
        "4. 请勿转售或滥用卡密。",
        "<b>Terms of service</b>\n1. Goods are digital (card keys), delivered automatically after "
        "payment.\n2. Unrevealed keys can be refunded; a revealed key that does not work is handled "
        "by support.\n3. Prices are as shown on the product card, paid in Telegram Stars or wallet "
        "balance.\n4. Do not resell or misuse keys.",
    ),
    "shop.categories": ("🛒 <b>商城</b>\n请选择分类：", "🛒 <b>Shop</b>\nChoose a category:"),
    "shop.empty": (
        "商城暂时没有商品，请稍后再来。",
        "The shop has nothing for sale right now. Please come back later.",
    ),
    "shop.products": (
        "🛒 <b>{category}</b>{paging}\n\n{lines}",
        "🛒 <b>{category}</b>{paging}\n\n{lines}",
    ),
    "shop.line": ("• {name} — {price} · {stock}", "• {name} — {price} · {stock}"),
    "stock.some": ("库存 {n}", "{n} in stock"),
    "stock.none": ("已售罄", "sold out"),
    "product.card": (
        "<b>{name}</b>\n{description}\n\n💴 价格：{price}（⭐ {stars}）\n📦 {stock}\n\n"
        "<b>使用方法</b>\n{redeem}\n\n每单最多 {limit} 个。",
        "<b>{name}</b>\n{description}\n\n💴 Price: {price} (⭐ {stars})\n📦 {stock}\n\n"
        "<b>How to redeem</b>\n{redeem}\n\nUp to {limit} per order.",
    ),
    "product.buy": ("购买 ×{n} · {total}", "Buy ×{n} · {total}"),
    "order.summary": (
        "🧾 <b>订单 #{id}</b>\n{item}\n合计：{total}（⭐ {stars}）\n"
        "卡密已为您保留至 {until}（{minutes} 分钟）。\n余额：{balance}",
        "🧾 <b>Order #{id}</b>\n{item}\nTotal: {total} (⭐ {stars})\n"
        "Your keys are held until {until} ({minutes} minutes).\nWallet balance: {balance}",
    ),
    "pay.stars": ("⭐ 用 {stars} Stars 支付", "⭐ Pay {stars} Stars"),
    "pay.wallet": ("💰 用余额支付 {total}", "💰 Pay {total} from wallet"),
    "pay.cancel": ("✖️ 取消订单", "✖️ Cancel order"),
    "invoice.title": ("订单 #{id}", "Order #{id}"),
    "invoice.sent": ("请在下方账单中完成支付。", "Complete the payment in the invoice below."),
    "topup.title": ("余额充值", "Wallet top-up"),
    "topup.description": (
        "充值 {amount} 到您的余额（{stars} Stars）",
        "Add {amount} to your wallet ({stars} Stars)",
    ),
    "paid.refunded": (
        "↩️ 这笔付款（{stars} ⭐）无法用于订单 #{id}，已原路退回您的 Telegram 余额。管理员已收到通知。",
        "↩️ This payment ({stars} ⭐) could not be used for order #{id}, so it went straight back "
        "to your Telegram balance. The admins have been told.",
    ),
    "paid.refund_pending": (
        "↩️ 这笔付款（{stars} ⭐）无法用于订单 #{id}，正在为您退款，完成后会通知您。",
        "↩️ This payment ({stars} ⭐) could not be used for order #{id}; it is being refunded, "
        "and you will get a message when it is done.",
    ),
    "topup.done": (
        "✅ 已充值 {amount}。当前余额：{balance}",
        "✅ Added {amount}. Balance now: {balance}",
    ),
    "delivery.ready": (
        "🎉 订单 #{id} 的卡密已就绪：{item}\n点击下方按钮查看。",
        "🎉 Your key is ready for order #{id}: {item}\nPress the button to see it.",
    ),
    "delivery.ready_many": (
        "🎉 订单 #{id} 的卡密已就绪：{item}\n点击下方按钮查看。",
        "🎉 Your keys are ready for order #{id}: {item}\nPress the button to see them.",
    ),
    # The order's summary in its later states (handlers.summary): one message, edited in place.
    "order.item": ("{name}（{qty} 份）", "{qty} × {name}"),
    "order.again": ("🔁 重新下单", "🔁 Order again"),
    "summary.held": ("🧾 订单 #{id} 待付款：{item}", "🧾 Order #{id} awaits payment: {item}"),
    "summary.paid_stars": ("✅ 已付款 {stars} ⭐", "✅ Paid {stars} ⭐"),
    "summary.paid_wallet": ("✅ 已用余额付款 {total}", "✅ Paid {total} from your wallet"),
    "summary.expired": (
        "⌛ 订单 #{id} 已过期：{item}\n保留时间已到，卡密已重新上架。如仍需要，可以重新下单。",
        "⌛ Order #{id} has expired: {item}\nThe hold ran out and the keys went back on sale. "
        "You can order again.",
    ),
    "summary.refunding": (
        "⏳ 订单 #{id} 正在退款：{item}",
        "⏳ Order #{id} is being refunded: {item}",
    ),
    "summary.refunded": ("↩️ 订单 #{id} 已退款：{item}", "↩️ Order #{id} was refunded: {item}"),
    "cancel.already_paid": (
        "这个订单已经付款，不能取消了。",
        "This order is already paid, so there is nothing to cancel.",
    ),
    "unpayable.paid": ("这个订单已经付过款了。", "This order is already paid."),
    "unpayable.expired": (
        "这个订单已过期，请重新下单。",
        "This order has expired; please order again.",
    ),
    "unpayable.cancelled": (
        "这个订单已取消，请重新下单。",
        "This order was cancelled; please order again.",
    ),
    "unpayable.refunded": ("这个订单已退款。", "This order was refunded."),
    "delivery.show": ("🔑 查看卡密", "🔑 Show keys"),
    "keys.message": (
        "🔑 <b>订单 #{id}</b> · {name}\n\n{keys}\n\n点击卡密即可复制。\n\n<b>使用方法</b>\n{redeem}",
        "🔑 <b>Order #{id}</b> · {name}\n\n{keys}\n\nTap a key to copy it.\n\n"
        "<b>How to redeem</b>\n{redeem}",
    ),
    "keys.continue": ("🛒 继续购物", "🛒 Continue shopping"),
    "keys.document": (
        "🔑 订单 #{id} 的 {n} 个卡密见附件。\n\n<b>使用方法</b>\n{redeem}",
        "🔑 The {n} keys of order #{id} are in the attached file.\n\n<b>How to redeem</b>\n{redeem}",
    ),
    "waiting.notice": (
        "😔 订单 #{id} 已付款，但在保留时间结束后库存已售完。您可以立即退款，或等待补货（补货后自动发货）。",
        "😔 Order #{id} is paid, but its stock ran out after the hold lapsed. You can get an "
        "immediate refund, or wait: the keys are sent automatically when stock arrives.",
    ),
    "waiting.refund": ("↩️ 立即退款", "↩️ Refund now"),
    "waiting.wait": ("⏳ 等待补货", "⏳ Wait for stock"),
    "waiting.ok": (
        "好的，补货后会自动发送给您。",
        "OK: your keys will be sent as soon as stock arrives.",
    ),
    "refund.done": ("✅ 订单 #{id} 已退款。", "✅ Order #{id} has been refunded."),
    "refund.done_wallet": (
        "✅ 订单 #{id} 已退款：{amount} 已退回您的余额（当前余额 {balance}）。",
        "✅ Order #{id} refunded: {amount} back to your wallet (balance {balance}).",
    ),
    "refund.done_stars": (
        "✅ 订单 #{id} 已退款：{stars} ⭐ 已退回您的 Telegram 余额。",
        "✅ Order #{id} refunded: {stars} ⭐ back to your Telegram balance.",
    ),
    "refund.pending": (
        "⏳ 订单 #{id} 的退款已提交，Telegram 确认后会通知您。",
        "⏳ The refund of order #{id} is on its way; you will get a message once Telegram confirms.",
    ),
    "refund.later": (
        "✅ 订单 #{id} 的 {stars} ⭐ 已退回您的 Telegram 余额。",
        "✅ The {stars} ⭐ of order #{id} are back in your Telegram balance.",
    ),
    "refund.later_payment": (
        "✅ 一笔无法使用的付款（{stars} ⭐）已退回您的 Telegram 余额。",
        "✅ A payment of {stars} ⭐ that could not be used is back in your Telegram balance.",
    ),
    "order.existing": (
        "您已为该商品保留了订单 #{id}，这就是它：",
        "You already hold keys of this product in order #{id}; here it is:",
    ),
    "bad.unrevealed": (
        "请先点击“🔑 查看卡密”：看过卡密后才能报告问题。未查看的卡密可以直接退款。",
        "Open 🔑 Show keys first: a key can be reported once you have seen it. Keys you have not "
        "seen can simply be refunded.",
    ),
    "refund.failed": (
        "退款暂时失败，请稍后再试或联系 /paysupport。",
        "The refund failed for now; try again later or use /paysupport.",
    ),
    "orders.title": (
        "📦 <b>我的订单</b>{paging}",
        "📦 <b>My orders</b>{paging}",
    ),
    "page.of": ("（第 {page}/{pages} 页）", " (page {page}/{pages})"),
    "orders.empty": ("您还没有订单。", "You have no orders yet."),
    "orders.line": ("#{id} · {item} · {status}", "#{id} · {item} · {status}"),
    "order.detail": (
        "🧾 <b>订单 #{id}</b>\n{item}\n金额：{total}（⭐ {stars}）\n状态：{status}\n下单：{created}",
        "🧾 <b>Order #{id}</b>\n{item}\nAmount: {total} (⭐ {stars})\nStatus: {status}\n"
        "Placed: {created}",
    ),
    "status.awaiting_payment": ("待付款", "awaiting payment"),
    "status.paid": ("已付款", "paid"),
    "status.awaiting_stock": ("已付款·等待补货", "paid, awaiting stock"),
    "status.delivered": ("已发货", "delivered"),
    "status.expired": ("已过期", "expired"),
    "status.cancelled": ("已取消", "cancelled"),
    "status.refunding": ("退款中", "refunding"),
    "status.refunded": ("已退款", "refunded"),
    "order.cancelled": (
        "✖️ 订单 #{id} 已取消：{item}\n保留的卡密已重新上架。",
        "✖️ Order #{id} is cancelled: {item}\nThe keys held for it went back on sale.",
    ),
    "wallet.title": (
        "💰 <b>余额</b>：{balance}\n\n{entries}\n充值（1 ⭐ = {rate}）：",
        "💰 <b>Balance</b>: {balance}\n\n{entries}\nTop up (1 ⭐ = {rate}):",
    ),
    "wallet.entry": ("{when} · {amount} · {reason}", "{when} · {amount} · {reason}"),
    "wallet.none": ("暂无记录。", "No entries yet."),
    "wallet.credited": (
        "💰 店铺已为您的余额充值 {amount}，当前余额 {balance}。",
        "💰 The shop added {amount} to your wallet; your balance is now {balance}.",
    ),
    "wallet.topup": ("⭐ {stars} → {amount}", "⭐ {stars} → {amount}"),
    # Why a wallet entry was written: store.domain.model.LedgerReason, said in the buyer's words.
    "ledger.topup": ("充值 {stars} ⭐", "Top-up {stars} Stars"),
    "ledger.purchase": ("订单 #{id} 付款", "Order #{id}"),
    "ledger.refund": ("订单 #{id} 退款", "Refund of order #{id}"),
    "ledger.bad_key_refund": ("订单 #{id} 问题卡密退款", "Refund of a bad key, order #{id}"),
    "ledger.admin_credit": ("管理员调整：{note}", "Admin: {note}"),
    "ledger.legacy": ("{note}", "{note}"),
    "flow.cancelled": ("已取消。", "Cancelled."),
    "file.not_expected": (
        "📎 收到文件，但现在没有需要文件的步骤。卡密无法使用？请在订单里点“⚠️ 卡密无法使用”，到截图那一步再发图片。需要人工帮助，请发送“人工”。",
        "📎 Got your file, but nothing is waiting for one right now. Key not working? Open the order and press “⚠️ My key doesn't work”, and send the picture at the screenshot step. For a person, send /human.",
    ),
    "other.unsupported": (
        "🙂 我能看懂文字、图片和文件，暂时看不懂{kind}。请用文字告诉我您需要什么，或从菜单中选择：",
        "🙂 I can read text, photos and files, but not {kind} yet. Write what you need, or choose from the menu:",
    ),
    # The kinds of message in other.unsupported and in relays (handlers.event.OTHER_KINDS).
    "kind.sticker": ("贴纸", "a sticker"),
    "kind.voice": ("语音", "a voice message"),
    "kind.video": ("视频", "a video"),
    "kind.video_note": ("视频消息", "a video message"),
    "kind.audio": ("音频", "an audio file"),
    "kind.animation": ("动图", "a GIF"),
    "kind.venue": ("地点", "a venue"),
    "kind.location": ("位置", "a location"),
    "kind.contact": ("联系人名片", "a contact"),
    "kind.dice": ("骰子", "a dice roll"),
    "kind.poll": ("投票", "a poll"),
    "error.too_many_stars": (
        "一次 Stars 付款最多 {max} ⭐：请减少数量，或用余额支付。",
        "One Stars payment carries at most {max} ⭐: choose fewer, or pay from your wallet.",
    ),
    "error.busy": (
        "现在有点忙，请稍等片刻再试一次。",
        "The shop is very busy right now; please try again in a moment.",
    ),
    "error.generic": (
        "抱歉，出了点问题，请稍后再试。",
        "Sorry, something went wrong. Please try again.",
    ),
    "error.forged": (
        "这个按钮已失效，请重新打开菜单。",
        "That button is no longer valid; please open the menu again.",
    ),
    "error.not_found": ("找不到该商品或订单。", "That product or order could not be found."),
    "error.not_yours": ("这不是您的订单。", "That order is not yours."),
    "error.out_of_stock": ("库存不足：目前仅剩 {n} 个。", "Not enough stock: only {n} left."),
    "error.quantity": ("每单数量为 1–{n}。", "Quantity must be 1–{n} per order."),
    "error.too_many_open": (
        "您已有 {n} 个未付款订单，请先付款或取消。",
        "You already have {n} unpaid orders; pay or cancel one first.",
    ),
    "error.not_payable": (
        "该订单当前状态为“{status}”，无法付款。",
        "This order is {status} and can't be paid.",
    ),
    "error.balance": (
        "余额不足：{balance}，需要 {needed}。",
        "Not enough balance: {balance}, need {needed}.",
    ),
    "error.no_keys": (
        "该订单目前没有可查看的卡密（{status}）。",
        "This order has no keys to show ({status}).",
    ),
    "error.refund": ("该订单无法退款（{status}）。", "This order can't be refunded ({status})."),
    "error.unknown_command": (
        "未知命令。发送 /help 查看可用命令。",
        "Unknown command. Send /help to see what I can do.",
    ),
    "error.too_long": (
        "消息太长了，请简短描述。",
        "That message is too long; please keep it short.",
    ),
    "precheckout.not_found": ("订单不存在。", "This order does not exist."),
    "precheckout.not_yours": ("这不是您的订单。", "This order is not yours."),
    "precheckout.not_payable": ("订单已支付或已关闭。", "This order was already paid or closed."),
    "precheckout.out_of_stock": (
        "抱歉，保留已过期且库存已售完。",
        "Sorry: the hold lapsed and the stock is gone.",
    ),
    "precheckout.mismatch": (
        "账单与订单不符，请重新下单。",
        "This invoice does not match the order; please order again.",
    ),
    "admin.only": ("此命令仅限管理员使用。", "This command is for admins only."),
    "admin.import_usage": (
        "发送文件并附上说明 /import SKU",
        "Send the file with the caption /import SKU",
    ),
    "admin.import_done": (
        "✅ 已导入 {imported} 个卡密到 {sku}。{refused}",
        "✅ Imported {imported} keys into {sku}.{refused}",
    ),
    "admin.import_refused": (
        "❌ 导入被拒绝（{sku}），未导入任何卡密：\n{lines}",
        "❌ Import refused for {sku}; nothing was imported:\n{lines}",
    ),
    "admin.import_skipped": (" 跳过了 {n} 行。", " {n} lines were skipped."),
    "admin.import_good_button": ("📥 只导入 {n} 行有效卡密", "📥 Import the {n} good lines"),
    "admin.import_offer_gone": (
        "这个导入选项已失效，请重新发送文件并附上说明 /import SKU。",
        "This offer has expired; send the file again with the caption /import SKU.",
    ),
    "admin.import_unknown_sku": (
        "❌ 没有 SKU 为 <code>{sku}</code> 的商品。{nearest}",
        "❌ No product has the SKU <code>{sku}</code>.{nearest}",
    ),
    "admin.import_nearest": ("是不是：{skus}？", " Did you mean {skus}?"),
    "admin.import_bad_file": (
        "❌ 文件无法读取：{reason}",
        "❌ The file could not be read: {reason}",
    ),
    "admin.stock": ("📊 <b>库存</b>\n{lines}", "📊 <b>Stock</b>\n{lines}"),
    "admin.stock_line": (
        "{mark} <code>{sku}</code> {name}{state}\n"
        "    共 {stocked} = 可售 {available} + 锁定 {held} + 已售 {sold} + 失效 {bad}"
        "（可售中退款回库 {returned}）",
        "{mark} <code>{sku}</code> {name}{state}\n"
        "    {stocked} stocked = {available} available + {held} held + {sold} sold"
        " + {bad} found bad ({returned} of the available refunded to stock)",
    ),
    "admin.stock_low": ("（库存不足）", " (low)"),
    "admin.stock_out": ("（已售罄）", " (out of stock)"),
    "admin.stock_empty": ("还没有商品。", "No products yet."),
    "admin.low_stock": (
        "⚠️ 库存不足：{name}（{sku}）仅剩 {n} 个。",
        "⚠️ Low stock: {name} ({sku}) has {n} left.",
    ),
    "admin.alert": ("🚨 {body}", "🚨 {body}"),
}


def visible_length(html_text: Markup) -> int:
    """How long Telegram counts a text after parsing its HTML: UTF-16 code units of what shows."""
    return _utf16_length(html.unescape(_TAG.sub("", html_text)))


def fitted(limit: int, render: Callable[[str], Rendered], plain: str) -> Rendered:
    """`render(plain)`, the plain text shortened to the room the rest of the text leaves, so
    that the whole fits `limit` characters as Telegram shows them: HTML once parsed (an entity
    like `&amp;` shows as one), plain text as written."""
    rest = render("")
    used = visible_length(rest) if isinstance(rest, Markup) else _utf16_length(rest)
    room = limit - used
    return render(shorten(plain, room)) if room > 1 else rest


def say(language: Language, key: str, **values: object) -> Markup:
    """The text for `key` in `language`, as HTML, with every value HTML-escaped once."""
    return Markup(_template(language, key)).format(**values)


def say_plain(language: Language, key: str, **values: object) -> str:
    """The text for `key` in `language` as written, for a button label, an alert or an invoice.

    Nothing is escaped: Telegram does not parse these. A text holding HTML cannot be one, nor
    can a Markup value be filled in, since either would show its tags and entities as typed.
    """
    template = _template(language, key)
    if _HTML.search(template):
        raise ValueError(f"{key!r} is HTML: it cannot be plain text")
    for name, value in values.items():
        if isinstance(value, Markup):
            raise TypeError(f"{key!r}: {name} is Markup, which plain text would show as typed")
    return template.format(**values)


def _template(language: Language, key: str) -> str:
    zh, en = TEXTS[key]
    return zh if language is Language.ZH else en


SUPPORT_TEXTS: dict[str, tuple[str, str]] = {
    "faq.solved": ("👍 已解决", "👍 Solved"),
    "faq.did_you_mean": ("您是想问：", "Did you mean:"),
    "faq.none_of_these": ("都不是，找人工", "None of these: a human, please"),
    "faq.fallback": (
        "抱歉，我没太明白。您可以换个说法，或者直接联系人工客服。",
        "Sorry, I didn't quite get that. Try other words, or talk to a person.",
    ),
    "faq.thanks": ("谢谢反馈！", "Thanks for the feedback!"),
    "faq.action.request_refund": ("↩️ 申请退款", "↩️ Request a refund"),
    "faq.action.report_bad_key": ("⚠️ 卡密无法使用", "⚠️ My key doesn't work"),
    "faq.action.my_orders": ("📦 我的订单", "📦 My orders"),
    "faq.action.shop": ("🛒 去商城", "🛒 Shop"),
    "faq.action.wallet": ("💰 余额", "💰 Wallet"),
    "faq.action.refund_status": ("📦 查看退款进度", "📦 Refund status"),
    "faq.action.human_agent": ("🙋 转人工", "🙋 Talk to a human"),
    "support.assigned": (
        "👩‍💼 客服 {agent} 正在为您服务，请直接在这里留言。",
        "👩‍💼 Agent {agent} is with you now: just write here.",
    ),
    "support.handed_back": (
        "🔄 客服已把您的会话转给下一位有空的同事，请稍候。",
        "🔄 Your agent passed your conversation on to the next free colleague; please hold on.",
    ),
    "support.queued": (
        "🕒 已为您转接人工客服。您排在第 {position} 位，前面还有 {ahead} 人，预计等待约 {wait} 分钟。可以先把问题发在这里，客服接入后就能看到。",
        "🕒 You're in the queue for a person: number {position}, with {ahead} ahead of you; expected wait about {wait} min. Write your question here meanwhile; the agent will see it.",
    ),
    "support.queued_next": (
        "🕒 已为您转接人工客服，下一位就是您，预计等待约 {wait} 分钟。可以先把问题发在这里，客服接入后就能看到。",
        "🕒 You're next in the queue for a person; expected wait about {wait} min. Write your question here meanwhile; the agent will see it.",
    ),
    "support.queued_offline": (
        "🌙 现在是非服务时间（人工客服 {hours}）。您的消息已记录，客服上班后会第一时间处理。您目前排第 {position} 位。",
        "🌙 It's after hours: people answer {hours}. Your message is kept, and it's picked up as soon as someone comes on duty. You're number {position} in the queue.",
    ),
    "support.queued_unstaffed": (
        "现在暂时没有客服在岗（人工客服 {hours}）。您的消息已记录，客服一上线就会处理。您目前排第 {position} 位。",
        "Nobody is on duty right now, though it's within support hours ({hours}). Your message is kept, and the first agent to come on duty gets it. You're number {position} in the queue.",
    ),
    "time.beijing": ("北京时间", "Beijing time"),
    "time.at": ("{zone} {time}", "{time} {zone}"),
    "support.kept": (
        "📝 已收到，客服接手后会看到。",
        "📝 Noted: the agent will see it when they pick this up.",
    ),
    "support.agent_says": ("👩‍💼 客服 {agent}：{text}", "👩‍💼 Agent {agent}: {text}"),
    "support.agent_sent": ("👩‍💼 客服 {agent} 发来{kind}：", "👩‍💼 Agent {agent} sent {kind}:"),
    "support.not_relayed": (
        "抱歉，{kind}无法转给客服，请用文字描述。",
        "Sorry, {kind} can't be passed on to the agent; please put it in words.",
    ),
    "support.closed": (
        "✅ 本次服务已结束。请为客服 {agent} 的服务打分：",
        "✅ This conversation is closed. How did Agent {agent} do?",
    ),
    "support.rated": ("谢谢您的评价！", "Thank you for rating us!"),
    "support.rate_once": ("已经评过分了。", "Already rated."),
    "support.leave_button": ("取消排队", "Leave the queue"),
    "support.left_queue": (
        "已为您取消排队。之后的消息不会再转给客服；还需要帮助的话，随时发送“人工”。",
        "You've left the queue. What you send now is not passed on; if you need a person again, send /human.",
    ),
    "support.left_agent": (
        "已结束与客服的对话。之后的消息不会再转给客服；还需要帮助的话，随时发送“人工”。",
        "You've ended the conversation with the agent. What you send now is not passed on; if you need a person again, send /human.",
    ),
    "support.queue_left": ("🚫 已取消排队。", "🚫 You left the queue."),
    "support.not_queued": ("您已经不在排队中了。", "You're no longer in the queue."),
    "refund.choose": (
        "请选择要退款的订单（仅限未查看卡密、{days} 天内的订单）：",
        "Choose the order to refund (keys not yet revealed, within {days} days):",
    ),
    "refund.none": (
        "目前没有可以直接退款的订单：只有还没查看过卡密的订单才能直接退款。已查看的卡密如无法使用，请点“卡密无法使用”。",
        "None of your orders can be refunded straight away: that is only for keys you haven't revealed yet. If a revealed key doesn't work, use “My key doesn't work”.",
    ),
    "refund.confirm_button": ("↩️ 退款 #{id}", "↩️ Refund #{id}"),
    # Why a refund was refused, beside the order statuses: `refund_refusal`'s other reasons.
    "status.revealed": (
        "卡密已查看；如无法使用，请点“卡密无法使用”",
        "its keys were revealed; if one doesn't work, use “My key doesn't work”",
    ),
    "status.window": ("已超过退款期限", "the refund window has passed"),
    "bad.choose_order": ("哪个订单的卡密有问题？", "Which order's key doesn't work?"),
    "bad.choose_key": ("是哪一个卡密？", "Which key?"),
    "bad.choose_reason": ("出了什么问题？", "What went wrong?"),
    "bad.reason.redeemed": ("已被使用", "Already redeemed"),
    "bad.reason.invalid": ("无效卡密", "Invalid key"),
    "bad.reason.region": ("地区不符", "Wrong region"),
    "bad.reason.other": ("其他", "Other"),
    "bad.screenshot": (
        "如有截图请直接发送；没有的话点“跳过”。",
        "Send a screenshot if you have one, or press Skip.",
    ),
    "bad.skip": ("跳过", "Skip"),
    "bad.replaced": (
        "✅ 已为您自动更换新卡密（售后单 #{case}）。点击查看：",
        "✅ Your key was replaced at once (case #{case}). See the new one:",
    ),
    "bad.queued": (
        "📨 售后单 #{case} 已提交，已优先转给客服处理。",
        "📨 Case #{case} is open and goes to an agent ahead of general questions.",
    ),
    "bad.none": ("没有可以报告的订单。", "There is no order with keys to report."),
    "case.replaced": (
        "✅ 售后单 #{case}：客服已为您更换卡密。",
        "✅ Case #{case}: the agent replaced your key.",
    ),
    "case.refunded": ("✅ 售后单 #{case}：已退款。", "✅ Case #{case}: refunded."),
    "case.declined": ("售后单 #{case} 未通过：{note}", "Case #{case} was declined: {note}"),
    "agent.only": ("此命令仅限客服使用。", "This command is for agents only."),
    "agent.duty_on": (
        "🟢 已上线，可同时处理 {capacity} 个会话。{assigned}",
        "🟢 On duty, up to {capacity} conversations at once.{assigned}",
    ),
    "agent.duty_off": (
        "⚪️ 已下线。进行中的会话仍归您处理。",
        "⚪️ Off duty. Conversations you have stay with you.",
    ),
    "agent.duty_usage": ("用法：/duty on 或 /duty off", "Usage: /duty on or /duty off"),
    "agent.duty_first": ("请先用 /duty on 上线。", "Come on duty first: /duty on"),
    "agent.queue_empty": ("队列中没有等待的会话。", "Nobody is waiting in the queue."),
    "agent.no_ticket": (
        "您当前没有进行中的会话（用 /next 接入）。",
        "You have no open conversation (use /next to take one).",
    ),
    "agent.ticket_card": (
        "🎫 <b>工单 #{id}</b> · {name}（用户 {user}）{kind}\n{subject}\n\n<b>最近订单</b>\n{orders}\n<b>历史工单</b>\n{tickets}\n<b>售后</b>\n{cases}\n\n直接回复即发送给买家；/note 私人备注，/reply FAQ编号 快捷回复，/close 结束，/transfer 转接。",
        "🎫 <b>Ticket #{id}</b> · {name} (user {user}){kind}\n{subject}\n\n<b>Recent orders</b>\n{orders}\n<b>Earlier tickets</b>\n{tickets}\n<b>Cases</b>\n{cases}\n\nWhat you write goes to the buyer; /note for a private note, /reply FAQ_ID for a canned answer, /close to resolve, /transfer to hand over.",
    ),
    "agent.bad_key_kind": (" · ⚠️ 卡密售后", " · ⚠️ bad-key case"),
    "agent.none": ("无", "none"),
    "agent.from_buyer": ("🎫 #{id} · {name}：{text}", "🎫 #{id} · {name}: {text}"),
    "agent.from_buyer_sent": ("🎫 #{id} · {name} 发来{kind}：", "🎫 #{id} · {name} sent {kind}:"),
    "agent.not_relayed": (
        "抱歉，{kind}无法转给买家。",
        "Sorry, {kind} can't be passed on to the buyer.",
    ),
    "agent.focus": ("↩️ 回复 #{id}", "↩️ Reply to #{id}"),
    "agent.focused": ("现在回复 #{id}。", "Now replying to #{id}."),
    "agent.noted": ("📝 已备注（买家看不到）。", "📝 Noted (the buyer never sees it)."),
    "agent.closed": ("✅ 工单 #{id} 已结束。", "✅ Ticket #{id} closed."),
    "agent.alias_is": (
        "买家看到的您是“客服 {alias}”（不会显示您的 Telegram 名字）。更改：/alias 新名字",
        "Buyers see you as “Agent {alias}” (never your Telegram name). To change it: /alias new name",
    ),
    "agent.alias_set": (
        "✅ 好的，买家从现在起看到的您是“客服 {alias}”。",
        "✅ Done: buyers now see you as “Agent {alias}”.",
    ),
    "agent.alias_usage": (
        "用法：/alias 小美（最多 {length} 个字，不能为空）",
        "Usage: /alias Mei (at most {length} characters, not empty)",
    ),
    "agent.buyer_left": (
        "🚪 买家已离开，工单 #{id} 已结束（不会收到评价）。",
        "🚪 The buyer left: ticket #{id} is closed (no rating will follow).",
    ),
    "agent.transferred": ("➡️ 工单 #{id} 已转出。", "➡️ Ticket #{id} handed over."),
    "agent.transfer_usage": (
        "用法：/transfer 客服ID 或 /transfer queue",
        "Usage: /transfer AGENT_ID or /transfer queue",
    ),
    "agent.transfer_bad_id": (
        "这不是 Telegram 用户 ID。用法：/transfer 客服ID 或 /transfer queue",
        "That is not a Telegram user id. Usage: /transfer AGENT_ID or /transfer queue",
    ),
    "agent.transfer_not_agent": (
        "用户 {id} 不是客服，工单仍由您处理。",
        "User {id} is not an agent; the ticket stays with you.",
    ),
    "agent.transfer_off_duty": (
        "客服 {name} 不在线，工单仍由您处理。",
        "Agent {name} is off duty; the ticket stays with you.",
    ),
    "agent.transfer_full": (
        "客服 {name} 已有 {open}/{capacity} 个会话（已满），工单仍由您处理。",
        "Agent {name} already has {open} of {capacity} conversations; the ticket stays with you.",
    ),
    "agent.transfer_self": (
        "这个工单已经在您这里了。",
        "That's you: the ticket is already yours.",
    ),
    "agent.unknown_faq": ("没有这个 FAQ 编号。", "No FAQ entry with that id."),
    "agent.unknown_faq_id": (
        "没有编号为“{typed}”的 FAQ。可用编号（最接近的在前）：\n{ids}",
        "No FAQ entry “{typed}”. The ids, nearest first:\n{ids}",
    ),
    "agent.reply_usage": (
        "用法：/reply FAQ编号。可用编号：\n{ids}",
        "Usage: /reply FAQ_ID. The ids:\n{ids}",
    ),
    "agent.tickets": (
        "🎫 <b>您的会话</b>（{n}）\n{lines}\n\n您发的消息会转给 #{id}（▶️）；点下方按钮切换。",
        "🎫 <b>Your conversations</b> ({n})\n{lines}\n\nWhat you write goes to #{id} (▶️); "
        "tap a button below to switch.",
    ),
    "agent.ticket_line": ("{mark} #{id} · {subject}", "{mark} #{id} · {subject}"),
    "agent.duty_took": (
        "已为您接入等待中的会话 {ids}，详情随后发送。",
        " Waiting conversations now yours: {ids}; their cards follow.",
    ),
    "agent.refund_button": ("↩️ 退款订单 #{id}", "↩️ Refund order #{id}"),
    "agent.case_replace": ("🔁 更换卡密 #{case}", "🔁 Replace key #{case}"),
    "agent.case_refund": ("↩️ 退款 #{case}", "↩️ Refund #{case}"),
    "agent.case_decline": ("✖️ 驳回 #{case}", "✖️ Decline #{case}"),
    "agent.decline_reason": (
        "请输入驳回理由（买家可见），或 /cancel 取消：",
        "Type the reason for declining (the buyer sees it), or /cancel:",
    ),
    "agent.case_key": (" · 卡密 {masked}", " · key {masked}"),
    "agent.case_why": (" · 未自动换新：{why}", " · not replaced automatically: {why}"),
    "case.not_replaced.disabled": ("自动换新已关闭", "automatic replacement is off"),
    "case.not_replaced.repeat": ("这个卡密之前已报告过", "the key was reported before"),
    "case.not_replaced.late": (
        "仅在付款后 {hours} 小时内自动换新",
        "replacement within {hours} h of payment only",
    ),
    "case.not_replaced.cooldown": (
        "买家 {days} 天内已换过一次卡密",
        "the buyer had a key replaced within {days} days",
    ),
    "case.not_replaced.large": ("订单金额超过 {amount}", "the order is over {amount}"),
    "case.not_replaced.no_stock": ("没有库存可以换新", "no stock to replace it with"),
    "agent.case_done": ("售后单 #{case}：{status}", "Case #{case}: {status}"),
    "agent.refunded_order": ("订单 #{id} 已退款。", "Order #{id} refunded."),
    "agent.refund_confirm": (
        "↩️ 确认为订单 #{id}（{item}）退款？\n{amount}\n{revealed}",
        "↩️ Refund order #{id} ({item})?\n{amount}\n{revealed}",
    ),
    "agent.refund_item": ("{name} ×{n}", "{name} ×{n}"),
    "agent.refund_to_stars": (
        "{stars} ⭐ 退回买家的 Telegram 余额。",
        "{stars} ⭐ go back to the buyer's Telegram balance.",
    ),
    "agent.refund_to_wallet": (
        "{amount} 退回买家的店铺余额。",
        "{amount} goes back to the buyer's wallet.",
    ),
    "agent.refund_revealed": (
        "⚠️ 买家已查看过卡密：卡密不会回到库存。",
        "⚠️ The buyer has seen the key: it does not go back into stock.",
    ),
    "agent.refund_unrevealed": (
        "买家还没查看过卡密：卡密会回到库存。",
        "The buyer has not seen the key: it goes back into stock.",
    ),
    "agent.refund_yes": ("✅ 确认退款", "✅ Refund"),
    "agent.refund_no": ("✖️ 不退款", "✖️ Don't refund"),
    "agent.refund_kept": (
        "未退款：订单 #{id} 保持不变。",
        "Not refunded: order #{id} stays as it is.",
    ),
    "agent.refund_done": ("✅ 订单 #{id} 已退款：{amount}", "✅ Order #{id} refunded: {amount}"),
    "agent.refund_pending": (
        "⏳ 订单 #{id} 正在退款：暂时联系不上 Telegram，稍后会自动完成并通知买家。",
        "⏳ Order #{id} is being refunded: Telegram is out of reach for now; the refund "
        "finishes on its own and the buyer is told.",
    ),
    "agent.breach": (
        "⏰ 工单 #{id} 超出{target}响应时限。",
        "⏰ Ticket #{id} missed its {target} response target.",
    ),
    "agent.target.first": ("首次", "first"),
    "agent.target.next": ("后续", "next"),
    "stats.support_today": ("今日客服", "Support today"),
    "stats.support_since": ("{since} 以来的客服", "Support since {since}"),
    "stats.sales": (
        "🛒 <b>今日销售</b>\n订单：{orders}\n收入：{revenue}\n退款：{refunds}（{refunded}）\n"
        "热销：{top}",
        "🛒 <b>Sales today</b>\nOrders: {orders}\nRevenue: {revenue}\n"
        "Refunds: {refunds} ({refunded})\nTop products:{top}",
    ),
    "stats.top_none": ("无", " none"),
    "stats.top_product": (
        "\n  {name} ×{quantity}（{orders} 单）",
        "\n  {name} ×{quantity} ({orders} orders)",
    ),
    "stats.report": (
        "📊 <b>{heading}</b>\n工单：{tickets}\n提问：{questions}（自助解决率 {containment}）\n首次响应：中位 {median}，P90 {p90}\n超时：{breaches}\n满意度：{csat}（{ratings} 个评分，平均 {average}）",
        "📊 <b>{heading}</b>\nTickets: {tickets}\nQuestions: {questions} (containment {containment})\nFirst response: median {median}, p90 {p90}\nBreaches: {breaches}\nCSAT: {csat} ({ratings} ratings, average {average})",
    ),
}
TEXTS.update(SUPPORT_TEXTS)
