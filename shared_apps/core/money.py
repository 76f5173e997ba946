"""Amounts as people read them, in pages and mails alike."""

from decimal import Decimal

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def money(amount: Decimal, currency: str) -> str:
    """£40.00 for the currencies whose symbol is unambiguous here, else 40.00 CHF."""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount:.2f}" if symbol else f"{amount:.2f} {currency}"
