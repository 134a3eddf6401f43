"""A local fake of Telegram: a Bot API server for real bot runtimes, and users to play.

sandbox = Sandbox(token)
base_url = await sandbox.start()          # aiogram: TelegramAPIServer.from_base(base_url)
user = sandbox.user(1001, "Li", "zh-hans")
await user.send_text("/start")
reply = await user.wait_for_text("Welcome")
await sandbox.stop()
"""

from sandbox.errors import BotApiError, SandboxError, UserActionError
from sandbox.sandbox import Sandbox
from sandbox.state import BotCall, CallbackAnswer, UserProfile
from sandbox.user import ChatMessage, PaymentResult, SandboxUser

__all__ = [
    "BotApiError",
    "BotCall",
    "CallbackAnswer",
    "ChatMessage",
    "PaymentResult",
    "Sandbox",
    "SandboxError",
    "SandboxUser",
    "UserActionError",
    "UserProfile",
]
