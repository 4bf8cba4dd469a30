//! A small app: a checkout that sums the prices of a cart's lines.

pub mod checkout {
    /// The total of lines `0..=last`.
    pub fn total(last: usize) -> u32 {
        (0..=last).map(super::cart::line_price).sum()
    }
}

pub mod cart {
    /// The bug: the cart has three lines, and nobody checks the index.
    pub fn line_price(line: usize) -> u32 {
        let prices = [1200, 450, 3100];
        prices[line]
    }
}
