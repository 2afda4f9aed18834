//! comtrade (being written)
