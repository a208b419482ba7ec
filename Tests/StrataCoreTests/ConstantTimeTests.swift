import Testing

@testable import StrataCore

@Suite struct ConstantTimeTests {
    @Test func comparisonIsExact() {
        #expect(ConstantTime.equals("abc", "abc"))
        #expect(ConstantTime.equals("", ""))
        #expect(!ConstantTime.equals("abc", "abd"))
        #expect(!ConstantTime.equals("abc", "abcd"))
        #expect(!ConstantTime.equals("", "a"))
        #expect(!ConstantTime.equals("a\u{0}", "a"))
    }
}
