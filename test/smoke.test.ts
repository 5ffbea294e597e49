describe("toolchain", () => {
  test("jest runs TypeScript", () => {
    const n: number = 2;
    expect(n + 1).toBe(3);
  });
});
