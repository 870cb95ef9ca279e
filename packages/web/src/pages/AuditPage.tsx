// Known gap: this page is not built yet; it shows its title only.
export function AuditPage() {
  return (
    <>
      <h1>Audit</h1>
    </>
  );
}
