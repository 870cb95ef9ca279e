// Known gap: this page is not built yet; it shows its title only.
export function OrgPage() {
  return (
    <>
      <h1>Org</h1>
    </>
  );
}
