"""Every text the bot says, in Simplified Chinese and English, rendered as escaped HTML.

`say()` escapes each value it fills in (product names, keys, user text) unless it is already
`Markup`; this is the one place HTML escaping happens, so nothing reaches Telegram unescaped.
"""

from __future__ import annotations

import html

from store.model import Language


class Markup(str):
    """HTML we built ourselves and that must not be escaped again."""


def escape(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=False))


TEXTS: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "welcome": (
        "👋 你好，{name}！欢迎来到 <b>{shop}</b>。\n付款后卡密自动发送，几秒即达。请选择：",
        "👋 Hi {name}, welcome to <b>{shop}</b>.\nPay and your key arrives in seconds. Choose:",
    ),
    "menu.shop": ("🛒 商城", "🛒 Shop"),
    "menu.orders": ("📦 我的订单", "📦 My orders"),
    "menu.wallet": ("💰 余额", "💰 Wallet"),
    "menu.help": ("❓ 帮助", "❓ Help"),
    "menu.back": ("⬅️ 返回", "⬅️ Back"),
    "menu.home": ("🏠 主菜单", "🏠 Main menu"),
    "nav.prev": ("◀️ 上一页", "◀️ Prev"),
    "nav.next": ("下一页 ▶️", "Next ▶️"),
    "help": (
        "<b>如何购买</b>\n1. 商城 → 选择分类和商品\n2. 选择数量，卡密为您保留 {minutes} 分钟\n"
        "3. 用 Telegram Stars ⭐ 或余额付款\n4. 点击“查看卡密”获取卡密\n\n"
        "命令：/shop 商城 · /orders 订单 · /wallet 余额 · /language 语言 · /paysupport 付款问题 · /terms 条款",
        "<b>How to buy</b>\n1. Shop → pick a category and a product\n2. Choose a quantity; the keys "
        "are held for you for {minutes} minutes\n3. Pay with Telegram Stars ⭐ or your wallet\n"
        "4. Press “Show keys” to get them\n\nCommands: /shop · /orders · /wallet · /language · "
        "/paysupport · /terms",
    ),
    "language.choose": ("请选择语言 / Choose a language:", "Choose a language / 请选择语言:"),
    "language.set": ("✅ 已切换为简体中文。", "✅ Language set to English."),
    "paysupport": (
        "<b>付款支持</b>\n付款或到账问题，请联系 {contact} 并附上订单号。"
        "未查看的卡密可申请退款；Stars 付款将原路退回。",
        "<b>Payment support</b>\nFor any problem with a payment or a delivery, contact {contact} "
        "with your order number. Keys you have not revealed can be refunded; Stars go back to "
        "your Telegram balance.",
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
        "🛒 <b>{category}</b>（第 {page}/{pages} 页）\n\n{lines}",
        "🛒 <b>{category}</b> (page {page}/{pages})\n\n{lines}",
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
    "product.buy": ("购买 ×{n}", "Buy ×{n}"),
    "order.summary": (
        "🧾 <b>订单 #{id}</b>\n{name} ×{qty}\n合计：{total}（⭐ {stars}）\n"
        "卡密已为您保留至 {until} UTC（{minutes} 分钟）。\n余额：{balance}",
        "🧾 <b>Order #{id}</b>\n{name} ×{qty}\nTotal: {total} (⭐ {stars})\n"
        "Your keys are held until {until} UTC ({minutes} minutes).\nWallet balance: {balance}",
    ),
    "pay.stars": ("⭐ 用 {stars} Stars 支付", "⭐ Pay {stars} Stars"),
    "pay.wallet": ("💰 用余额支付 {total}", "💰 Pay {total} from wallet"),
    "pay.cancel": ("✖️ 取消订单", "✖️ Cancel order"),
    "invoice.title": ("订单 #{id}", "Order #{id}"),
    "invoice.description": ("{name} ×{qty}", "{name} ×{qty}"),
    "invoice.sent": ("请在下方账单中完成支付。", "Complete the payment in the invoice below."),
    "topup.title": ("余额充值", "Wallet top-up"),
    "topup.description": (
        "充值 {amount} 到您的余额（{stars} Stars）",
        "Add {amount} to your wallet ({stars} Stars)",
    ),
    "paid.wallet": ("✅ 已用余额支付订单 #{id}。", "✅ Order #{id} paid from your wallet."),
    "paid.stars": (
        "✅ 已收到订单 #{id} 的付款，正在发货…",
        "✅ Payment for order #{id} received; delivering…",
    ),
    "paid.duplicate": (
        "此付款已处理过，无需重复操作。",
        "This payment was already processed; nothing more to do.",
    ),
    "paid.unapplied": (
        "⚠️ 付款已收到，但订单 #{id} 已无法支付。管理员已收到通知，将为您退款。",
        "⚠️ Payment received, but order #{id} could no longer be paid. The admins have been told "
        "and will refund you.",
    ),
    "topup.done": (
        "✅ 已充值 {amount}。当前余额：{balance}",
        "✅ Added {amount}. Balance now: {balance}",
    ),
    "delivery.ready": (
        "🎉 订单 #{id} 的卡密已就绪：{name} ×{qty}\n点击下方按钮查看。",
        "🎉 Your keys are ready for order #{id}: {name} ×{qty}\nPress the button to see them.",
    ),
    "delivery.show": ("🔑 查看卡密", "🔑 Show keys"),
    "keys.message": (
        "🔑 <b>订单 #{id}</b> · {name}\n\n{keys}\n\n<b>使用方法</b>\n{redeem}",
        "🔑 <b>Order #{id}</b> · {name}\n\n{keys}\n\n<b>How to redeem</b>\n{redeem}",
    ),
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
    "refund.failed": (
        "退款暂时失败，请稍后再试或联系 /paysupport。",
        "The refund failed for now; try again later or use /paysupport.",
    ),
    "orders.title": (
        "📦 <b>我的订单</b>（第 {page}/{pages} 页）",
        "📦 <b>My orders</b> (page {page}/{pages})",
    ),
    "orders.empty": ("您还没有订单。", "You have no orders yet."),
    "orders.line": ("#{id} · {name} ×{qty} · {status}", "#{id} · {name} ×{qty} · {status}"),
    "order.detail": (
        "🧾 <b>订单 #{id}</b>\n{name} ×{qty}\n金额：{total}（⭐ {stars}）\n状态：{status}\n下单：{created} UTC",
        "🧾 <b>Order #{id}</b>\n{name} ×{qty}\nAmount: {total} (⭐ {stars})\nStatus: {status}\n"
        "Placed: {created} UTC",
    ),
    "status.awaiting_payment": ("待付款", "awaiting payment"),
    "status.paid": ("已付款", "paid"),
    "status.awaiting_stock": ("已付款·等待补货", "paid, awaiting stock"),
    "status.delivered": ("已发货", "delivered"),
    "status.expired": ("已过期", "expired"),
    "status.refunding": ("退款中", "refunding"),
    "status.refunded": ("已退款", "refunded"),
    "order.cancelled": (
        "订单 #{id} 已取消，卡密已释放。",
        "Order #{id} cancelled; its keys were released.",
    ),
    "wallet.title": (
        "💰 <b>余额</b>：{balance}\n\n{entries}\n充值（1 ⭐ = {rate}）：",
        "💰 <b>Balance</b>: {balance}\n\n{entries}\nTop up (1 ⭐ = {rate}):",
    ),
    "wallet.entry": ("{when} · {amount} · {reason}", "{when} · {amount} · {reason}"),
    "wallet.none": ("暂无记录。", "No entries yet."),
    "wallet.topup": ("⭐ {stars} → {amount}", "⭐ {stars} → {amount}"),
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
    "admin.import_bad_file": (
        "❌ 文件无法读取：{reason}",
        "❌ The file could not be read: {reason}",
    ),
    "admin.stock": ("📊 <b>库存</b>\n{lines}", "📊 <b>Stock</b>\n{lines}"),
    "admin.low_stock": (
        "⚠️ 库存不足：{name}（{sku}）仅剩 {n} 个。",
        "⚠️ Low stock: {name} ({sku}) has {n} left.",
    ),
    "admin.alert": ("🚨 {body}", "🚨 {body}"),
}


def say(language: Language, key: str, **values: object) -> Markup:
    """The text for `key` in `language`, with every value HTML-escaped."""
    zh, en = TEXTS[key]
    template = zh if language is Language.ZH else en
    return Markup(template.format(**{name: escape(value) for name, value in values.items()}))


def both(key: str) -> tuple[str, str]:
    return TEXTS[key]
