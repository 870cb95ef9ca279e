// Known gap: this page is not built yet; it shows its title only.
export function RunnersPage() {
  return (
    <>
      <h1>Runners</h1>
    </>
  );
}
