"""The card emulator: card behaviours, and the transports that present them."""
